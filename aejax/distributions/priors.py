"""Priors p(z): the standard normal and the Gaussian mixture (learnable mixture, VampPrior).

Every prior has ``log_prob(z [..., D]) -> [...]`` and ``sample(key, sample_shape) -> [*sample_shape,
D]``; only priors with a closed-form KL to a diagonal Gaussian also have ``kl_from``. The flow prior
lives in :mod:`aejax.distributions.flows`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from aejax.distributions.posteriors import DiagonalGaussian, lift
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


@struct.dataclass
class MixtureOfGaussians:
    """``sum_k pi_k N(loc_k, diag(exp(log_var_k)))`` over the last axis.

    The learnable mixture prior and the VampPrior (whose components are the posteriors of the
    pseudo-inputs and whose weights are uniform) are both this distribution. There is no closed-form
    KL to a Gaussian posterior, so objectives use the Monte-Carlo path of ``kl_to_prior``.

    Attributes:
      logits: ``[K]`` unnormalised log mixture weights (``log_softmax`` gives ``log pi``).
      loc: ``[K, D]`` component means.
      log_var: ``[K, D]`` component log-variances (already clamped by whoever built them).
    """

    logits: Array
    loc: Array
    log_var: Array

    @property
    def components(self) -> DiagonalGaussian:
        return DiagonalGaussian(loc=self.loc, log_var=self.log_var)

    def log_prob(self, z: Array) -> Array:
        """``log p(z) = logsumexp_k (log pi_k + log N(z; loc_k, var_k))``: ``[..., D] -> [...]``."""
        per_component = self.components.log_prob(z[..., None, :])  # [..., K]
        log_weights = jax.nn.log_softmax(self.logits)
        return jax.nn.logsumexp(per_component + lift(log_weights, per_component.ndim), axis=-1)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        """``[*sample_shape, D]``: a component ``k ~ Categorical(pi)``, then ``N(loc_k, var_k)``."""
        component_key, noise_key = jax.random.split(key)
        k = jax.random.categorical(component_key, self.logits, shape=tuple(sample_shape))
        eps = jax.random.normal(noise_key, tuple(sample_shape) + self.loc.shape[-1:], jnp.float32)
        loc, log_var = jnp.take(self.loc, k, axis=0), jnp.take(self.log_var, k, axis=0)
        return loc + jnp.exp(0.5 * log_var) * eps
