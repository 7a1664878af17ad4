"""KL per latent dimension, free bits, and the per-dimension summary logged during training.

References:
  Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow", NeurIPS
  2016, eq. 15 (free bits: ``sum_j max(lambda, E_x[KL_j])`` over groups ``j`` of latents).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aejax.distributions import DiagonalGaussian
from aejax.types import Array

# A dimension whose batch-mean KL exceeds this many nats counts as active in the log summary.
ACTIVE_KL_NATS = 0.01


def kl_per_dim(posterior, prior, z: Array) -> Array:
    """``KL(q(z|x) || p(z))`` per example and latent dimension, ``[B, D]`` (nats).

    Analytic when the prior factorises over dimensions (it has ``kl_from``); otherwise the
    single-sample estimate ``log q(z|x) - log p(z)`` at ``z`` as one column, ``[B, 1]``.
    """
    if isinstance(posterior, DiagonalGaussian) and hasattr(prior, "kl_from"):
        return prior.kl_from(posterior)
    return (posterior.log_prob(z) - prior.log_prob(z))[:, None]


def group_kl(kl_dims: Array, groups: int) -> Array:
    """Sums ``[B, D]`` per-dimension KLs into ``groups`` contiguous groups, ``[B, groups]``;
    ``groups == 0`` (or a single KL column) keeps one group per column."""
    b, d = kl_dims.shape
    if groups == 0 or d == 1:
        return kl_dims
    if d % groups:
        raise ValueError(f"{d} latent dimensions do not split into {groups} equal groups")
    return kl_dims.reshape(b, groups, d // groups).sum(-1)


def free_bits(kl_groups: Array, threshold: Array) -> Array:
    """Per-example share of ``sum_g max(threshold, mean_b KL[b, g])``, ``[B]`` (nats).

    Example ``b`` gets ``KL[b, g]`` for groups whose batch mean is above ``threshold`` and
    ``threshold`` for the others, so the batch mean of the result equals Kingma et al.'s free-bits
    KL and so does its gradient (groups under the threshold pass none). ``threshold = 0`` gives
    the plain KL sum.
    """
    active = jax.lax.stop_gradient(kl_groups.mean(0) > threshold)[None, :]
    return jnp.where(active, kl_groups, threshold).sum(-1)


def kl_summary(kl_dims: Array) -> dict[str, Array]:
    """Batch statistics of the per-dimension KL, each repeated per example (``[B]``):
    ``kl_dim_max``/``kl_dim_min`` (the largest/smallest batch-mean KL of one dimension, nats) and
    ``active_dims`` (dimensions above :data:`ACTIVE_KL_NATS`). Empty for a non-factorised KL."""
    if kl_dims.shape[-1] == 1:
        return {}
    per_dim = jax.lax.stop_gradient(kl_dims).mean(0)
    full = lambda v: jnp.full(kl_dims.shape[:1], v, jnp.float32)  # noqa: E731
    return {
        "kl_dim_max": full(per_dim.max()),
        "kl_dim_min": full(per_dim.min()),
        "active_dims": full((per_dim > ACTIVE_KL_NATS).sum()),
    }
