"""Key derivation: every random draw is a function of (seed, purpose, step or example).

The root key is split once into purpose-named keys and never used again. Inside the step the
training key is folded with the step number, so a resumed run draws the same noise without
storing keys in checkpoints.
"""

from __future__ import annotations

import zlib

import jax

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
