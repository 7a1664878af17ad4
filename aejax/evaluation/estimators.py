"""Importance-sampling estimators of log p(x), on distributions and callables.

Randomness is per example and per sample: sample ``k`` of example ``i`` is drawn from
``fold_in(fold_in(key, i), k)``, so a value never depends on the batch size nor on how the
importance samples are split into chunks. The functions take distributions and callables, not a
flax model, so they can be tested on plain distributions; :func:`model_fns` turns a model and its
variables into those callables. :mod:`aejax.evaluation.likelihood` runs them over a split.

References:
  Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016, eq. 8.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from aejax.types import Array, PRNGKey

Encode = Callable[[Array], object]  # x [B, H, W, C] -> q(z|x) with batch shape [B]
Decode = Callable[[Array], object]  # z [B, D] -> p(x|z) with log_prob summed over [H, W, C]
PriorFn = Callable[[], object]  # () -> p(z)


def model_fns(model, variables, cond: Array | None = None) -> tuple[Encode, Decode, PriorFn]:
    """``(encode, decode, prior)`` as pure functions of arrays, closing over ``variables``.

    ``cond [B, num_classes]`` (a conditional model's one-hot labels) is passed to both; the
    decoder may get ``S * B`` codes (sample-major), for which ``cond`` is tiled ``S`` times.
    """

    def encode(x: Array):
        return model.apply(variables, x, cond, method=lambda m, x, c: m.encode(x, c))

    def decode(z: Array):
        c = None if cond is None else jnp.tile(cond, (z.shape[0] // cond.shape[0], 1))
        return model.apply(variables, z, c, method=lambda m, z, c: m.decode(z, c))

    def prior():
        return model.apply(variables, method=lambda m: m.prior_dist())

    return encode, decode, prior


def has_density(posterior) -> bool:
    """Whether q(z|x) has a density (a Delta posterior of a deterministic AE does not)."""
    return hasattr(posterior, "log_prob")


def draw_posterior(posterior, keys: PRNGKey, sample_ids: Array) -> Array:
    """Reparameterised ``z [S, B, D]``; sample ``k`` of example ``b`` uses ``fold_in(keys[b], k)``.

    ``posterior`` has batch shape ``[B]`` (every leaf leads with ``B``); ``keys: [B]``;
    ``sample_ids: int[S]``.
    """

    s, b = sample_ids.shape[0], keys.shape[0]
    # Flattened sample-major (index s * B + b): one level of vmap compiles much faster on CPU.
    flat_keys = jax.vmap(jax.random.fold_in)(jnp.tile(keys, s), jnp.repeat(sample_ids, b))
    flat_post = jax.tree_util.tree_map(lambda a: jnp.tile(a, (s,) + (1,) * (a.ndim - 1)), posterior)
    z = jax.vmap(lambda post, key: post.sample(key))(flat_post, flat_keys)
    return z.reshape((s, b, *z.shape[1:]))


def flat_event(dist, event_shape: tuple[int, ...]):
    """``dist`` with its ``event_shape`` axes merged into one axis of ``prod(event_shape)``.

    For elementwise likelihoods (``Bernoulli``, ``Gaussian``) that carry an ``event_ndim`` field;
    others are returned unchanged. Why: images ``[.., H, W, 1]`` end in a size-1 channel axis, and
    XLA:CPU does not vectorise elementwise loops whose minor axis has size 1. Merging the pixels
    gives the same value, much faster on CPU (see docs/performance.md).
    """
    k = len(event_shape)
    if getattr(dist, "event_ndim", None) != k or not hasattr(dist, "replace"):
        return dist
    size = math.prod(event_shape)

    def merge(a):
        a = jnp.asarray(a)
        if a.ndim >= k and tuple(a.shape[a.ndim - k :]) == tuple(event_shape):
            return a.reshape((*a.shape[: a.ndim - k], size))
        if a.size == 1:  # a scalar parameter (e.g. a shared log_scale) broadcasts as it is
            return a.reshape(())
        raise ValueError(f"cannot merge event axes {event_shape} of a parameter shaped {a.shape}")

    leaves = {
        f.name: merge(getattr(dist, f.name))
        for f in dataclasses.fields(dist)
        if f.metadata.get("pytree_node", True)
    }
    return dist.replace(event_ndim=1, **leaves)


def tiled_log_likelihood(decode: Decode, x: Array) -> Callable[[Array], Array]:
    """``z [S, B, D] -> log p(x|z) [S, B]`` (nats), decoding all ``S * B`` codes in one call.

    ``x [B, ...]`` is broadcast against the ``[S, B, ...]`` decoder outputs, not tiled, and the
    pixel axes are merged (:func:`flat_event`) so the elementwise work vectorises.
    """
    event_shape = tuple(x.shape[1:])
    x_flat = x.reshape((x.shape[0], -1))

    def log_likelihood(z: Array) -> Array:
        s, b = z.shape[:2]
        dist = flat_event(decode(z.reshape((s * b, -1))), event_shape)
        dist = jax.tree_util.tree_map(
            lambda a: a.reshape((s, b, *a.shape[1:])) if a.ndim and a.shape[0] == s * b else a,
            dist,
        )
        return dist.log_prob(x_flat)

    return log_likelihood


def log_importance_weights(
    posterior, prior, log_likelihood: Callable[[Array], Array], keys: PRNGKey, sample_ids: Array
) -> Array:
    """``log p(x|z_k) + log p(z_k) - log q(z_k|x)`` for ``z_k ~ q(z|x)``: ``[S, B]`` (nats).

    Args:
      posterior: q(z|x) with batch shape ``[B]`` and ``log_prob: [..., D] -> [...]``.
      prior: p(z) with ``log_prob: [..., D] -> [...]``.
      log_likelihood: ``z [S, B, D] -> log p(x_b|z) [S, B]``.
      keys: one key per example, ``[B]``.
      sample_ids: which samples to draw, ``int[S]`` (see :func:`draw_posterior`).
    """
    z = draw_posterior(posterior, keys, sample_ids)
    return log_likelihood(z) + prior.log_prob(z) - posterior.log_prob(z)


# Decoder evaluations per IWAE chunk on a CPU backend, below the memory bound
# ``max_samples_per_call``: see :func:`samples_per_call`.
CPU_SAMPLES_PER_CALL = 8192


def samples_per_call(max_samples_per_call: int, backend: str | None = None) -> int:
    """Decoder evaluations per IWAE chunk: ``max_samples_per_call`` (the memory bound), and on a
    CPU backend (``backend``, default ``jax.default_backend()``) at most
    :data:`CPU_SAMPLES_PER_CALL`.

    Why: on a CPU the pass is bound by the decoder's matmuls, whose operands stay in cache with
    chunks of a few thousand decoder evaluations and not at the default memory bound
    (``eval.max_samples_per_call``, 100,000); docs/performance.md has the measurements.
    Accelerators keep the memory bound: they need large chunks to be busy. Which samples an
    example gets does not depend on the chunking (see :func:`draw_posterior`), so neither do
    the values, beyond the float rounding of the running sum.
    """
    cap = int(max_samples_per_call)
    if (backend or jax.default_backend()) == "cpu":
        cap = min(cap, CPU_SAMPLES_PER_CALL)
    return cap


def num_sample_chunks(num_samples: int, batch_size: int, max_samples_per_call: int):
    """``(num_chunks, chunk)``: ``num_samples`` split so ``batch_size * chunk`` stays within
    ``max_samples_per_call`` (at least one sample per chunk), in near-equal chunks."""
    cap = max(1, int(max_samples_per_call) // max(1, batch_size))
    num_chunks = -(-num_samples // cap)
    return num_chunks, -(-num_samples // num_chunks)


def iwae_log_marginal(
    posterior,
    prior,
    log_likelihood: Callable[[Array], Array],
    keys: PRNGKey,
    num_samples: int,
    chunk: int,
) -> Array:
    """The IWAE bound ``logsumexp_k w_k - log K`` per example, ``[B]`` (nats).

    Weights are computed ``chunk`` samples at a time inside a ``lax.fori_loop`` and merged into
    a running ``(max, sum of exp)`` pair, so memory is ``O(chunk * B)`` whatever ``K`` is. The last
    chunk is padded and its surplus samples masked, so every chunk has one shape.
    """
    return streamed_log_mean_exp(
        lambda ids: log_importance_weights(posterior, prior, log_likelihood, keys, ids),
        keys.shape[0],
        num_samples,
        chunk,
    )


def streamed_log_mean_exp(
    log_weights: Callable[[Array], Array], batch: int, num_samples: int, chunk: int
) -> Array:
    """``log (1/K) sum_k exp(w_k)`` per example ``[B]`` for ``log_weights(ids int[S]) -> [S, B]``,
    computed ``chunk`` samples at a time with a running ``(max, sum of exp)`` pair."""
    num_chunks = -(-num_samples // chunk)

    def body(c, carry):
        running_max, running_sum = carry
        ids = c * chunk + jnp.arange(chunk)
        w = log_weights(ids)
        w = jnp.where((ids < num_samples)[:, None], w, -jnp.inf)
        new_max = jnp.maximum(running_max, w.max(axis=0))
        shift = jnp.where(jnp.isfinite(new_max), new_max, 0.0)
        running_sum = running_sum * jnp.exp(running_max - shift) + jnp.exp(w - shift[None]).sum(0)
        return new_max, running_sum

    init = (jnp.full((batch,), -jnp.inf, jnp.float32), jnp.zeros((batch,), jnp.float32))
    running_max, running_sum = jax.lax.fori_loop(0, num_chunks, body, init)
    return running_max + jnp.log(running_sum) - math.log(num_samples)


@functools.partial(jax.jit, static_argnums=(0, 4))
def iwae_log_weights(
    model, variables, x: Array, keys: PRNGKey, num_samples: int, start: int = 0
) -> Array:
    """Log importance weights ``[num_samples, B]`` of samples ``start, start + 1, ...`` (nats).

    ``x: [B, H, W, C]``; ``keys: [B]`` one per example (e.g. ``example_keys(key, ids)``).
    Jitted; ``model`` and ``num_samples`` are static.
    """
    encode, decode, prior = model_fns(model, variables)
    ids = start + jnp.arange(num_samples)
    return log_importance_weights(encode(x), prior(), tiled_log_likelihood(decode, x), keys, ids)
