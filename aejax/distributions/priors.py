"""Priors p(z). Learnable priors (mixtures, VampPrior, flows) plug in with the same methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from aejax.distributions.posteriors import DiagonalGaussian
from aejax.types import Array, PRNGKey


@struct.dataclass
class StandardNormal:
    """N(0, I) over ``latent_dim`` dimensions."""

    latent_dim: int = struct.field(pytree_node=False)

    def as_gaussian(self) -> DiagonalGaussian:
        zeros = jnp.zeros((self.latent_dim,), jnp.float32)
        return DiagonalGaussian(loc=zeros, log_var=zeros)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        """``[*sample_shape, latent_dim]`` standard normal draws."""
        return jax.random.normal(key, tuple(sample_shape) + (self.latent_dim,), jnp.float32)

    def log_prob(self, z: Array) -> Array:
        """``log p(z)``: ``[..., D] -> [...]`` (nats)."""
        return self.as_gaussian().log_prob(z)

    def kl_from(self, posterior: DiagonalGaussian) -> Array:
        """Analytic ``KL(posterior || self)`` per latent dimension, ``[..., D]`` (nats)."""
        return posterior.kl_per_dim(self.as_gaussian())
