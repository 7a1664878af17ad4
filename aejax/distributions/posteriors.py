"""Posterior families q(z|x): diagonal Gaussian (VAE) and Delta (deterministic AE)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import struct

from aejax.types import Array, PRNGKey

# log-variance is clamped to this range before use: exp(-30) ~ 1e-13 and exp(20) ~ 5e8 keep
# sigma, 1/sigma and the KL finite in float32 while never binding for a healthy model.
LOG_VAR_MIN = -30.0
LOG_VAR_MAX = 20.0
_LOG_2PI = math.log(2.0 * math.pi)


def lift(a: Array, ndim: int) -> Array:
    """Prepends length-1 axes so ``a`` has ``ndim`` axes (explicit broadcasting of sample axes)."""
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def clamp_log_var(log_var: Array) -> Array:
    """Clips a log-variance to ``[LOG_VAR_MIN, LOG_VAR_MAX]`` (gradient passes inside the range)."""
    return jnp.clip(log_var, LOG_VAR_MIN, LOG_VAR_MAX)


@struct.dataclass
class DiagonalGaussian:
    """N(loc, diag(exp(log_var))) over the last axis.

    Attributes:
      loc: ``[..., D]`` mean.
      log_var: ``[..., D]`` log-variance (already clamped by whoever built it).
    """

    loc: Array
    log_var: Array

    @property
    def scale(self) -> Array:
        return jnp.exp(0.5 * self.log_var)

    def mean(self) -> Array:
        return self.loc

    def mode(self) -> Array:
        return self.loc

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        """Reparameterised draw ``loc + scale * eps``, ``eps ~ N(0, I)`` from ``key``.

        Returns ``[*sample_shape, ..., D]``; gradients reach ``loc`` and ``log_var``.
        """
        shape = tuple(sample_shape) + self.loc.shape
        eps = jax.random.normal(key, shape, self.loc.dtype)
        return lift(self.loc, len(shape)) + lift(self.scale, len(shape)) * eps

    def log_prob(self, z: Array) -> Array:
        """``log q(z)`` summed over the last axis: ``[..., D] -> [...]`` (nats)."""
        n = max(z.ndim, self.loc.ndim)
        z, loc, log_var = lift(z, n), lift(self.loc, n), lift(self.log_var, n)
        per_dim = -0.5 * (_LOG_2PI + log_var + (z - loc) ** 2 * jnp.exp(-log_var))
        return per_dim.sum(-1)

    def kl_per_dim(self, other: DiagonalGaussian) -> Array:
        """Analytic ``KL(self || other)`` per latent dimension, ``[..., D]`` (nats)."""
        n = max(self.loc.ndim, other.loc.ndim)
        loc, log_var = lift(self.loc, n), lift(self.log_var, n)
        o_loc, o_log_var = lift(other.loc, n), lift(other.log_var, n)
        var_ratio = jnp.exp(log_var - o_log_var)
        mean_term = (loc - o_loc) ** 2 * jnp.exp(-o_log_var)
        return 0.5 * (var_ratio + mean_term - 1.0 - (log_var - o_log_var))

    def kl_divergence(self, other: DiagonalGaussian) -> Array:
        """Analytic ``KL(self || other)`` summed over the last axis, ``[...]`` (nats)."""
        return self.kl_per_dim(other).sum(-1)


@struct.dataclass
class Delta:
    """A point mass at ``value``: the 'posterior' of a deterministic autoencoder.

    Attributes:
      value: ``[..., D]`` the code.
    """

    value: Array

    def mean(self) -> Array:
        return self.value

    def mode(self) -> Array:
        return self.value

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        del key  # deterministic
        return jnp.broadcast_to(self.value, tuple(sample_shape) + self.value.shape)
