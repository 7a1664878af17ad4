"""Key derivation: every random draw is a function of (seed, purpose, step or example).

The root key is split once into purpose-named keys and never used again. Inside the step the
training key is folded with the step number, so a resumed run draws the same noise without
storing keys in checkpoints.
"""

from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp

from aejax.types import Array, PRNGKey

PURPOSES = ("init", "train", "data", "binarize", "eval", "sample")


def named_keys(seed: int) -> dict[str, PRNGKey]:
    """``{purpose: key}`` for every name in :data:`PURPOSES`, from ``jax.random.key(seed)``."""
    keys = jax.random.split(jax.random.key(seed), len(PURPOSES))
    return dict(zip(PURPOSES, keys, strict=True))


def step_key(train_key: PRNGKey, step: Array) -> PRNGKey:
    """The key for training step ``step``: ``fold_in(train_key, step)``."""
    return jax.random.fold_in(train_key, step)


def example_keys(key: PRNGKey, example_ids: Array) -> PRNGKey:
    """One key per example id ``[B]``: the same example gets the same key however it is batched."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(example_ids)


def subkey(key: PRNGKey, name: str) -> PRNGKey:
    """A named sub-stream of a purpose key: ``fold_in(key, crc32(name) mod 2**31)``.

    For draws added after :data:`PURPOSES` was fixed (changing that list would change every
    existing run's keys). The folded constant is far above any epoch or step a run reaches, so it
    does not collide with the per-epoch/per-step folds of the same key.
    """
    return jax.random.fold_in(key, zlib.crc32(name.encode()) % 2**31)


def _fmix32(h: Array) -> Array:
    """MurmurHash3's 32-bit finaliser: a bijection of uint32 with full avalanche."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def counter_uniform(key: PRNGKey, counters: Array, size: int) -> Array:
    """``float32[B, size]`` uniform on [0, 1): a hash of (key, counter, position).

    For bulk noise whose statistical quality matters but not its unpredictability (dynamic
    binarisation draws one number per pixel per example per epoch): hashing the counters with
    MurmurHash3's finaliser costs a few integer operations per value, where threefry costs ~20
    rounds (what threefry cost the step: docs/performance.md). Row ``b`` depends only on ``key``
    and ``counters[b]``, so a value never depends on how rows are batched.
    """
    words = jax.random.key_data(key).reshape(-1).astype(jnp.uint32)
    base = counters.astype(jnp.uint32) * jnp.uint32(0x9E3779B1)
    for w in words:
        base = _fmix32(base ^ w)
    position = jnp.arange(size, dtype=jnp.uint32) * jnp.uint32(0x85EBCA77)
    h = _fmix32(_fmix32(base[:, None] + position[None, :]))
    return (h >> 8).astype(jnp.float32) * jnp.float32(1.0 / (1 << 24))
