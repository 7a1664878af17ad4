"""Heads turn network outputs into distributions; priors are modules so they may learn.

Posterior heads take encoder features ``[B, F]`` and return q(z|x). Likelihood heads take the
decoder's image-shaped output ``[B, H, W, C * params_per_pixel]`` and return p(x|z).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp

from aejax.distributions import Bernoulli, Delta, DiagonalGaussian, Gaussian, StandardNormal
from aejax.distributions.posteriors import clamp_log_var
from aejax.types import Array


class GaussianPosteriorHead(nn.Module):
    """Dense layer to ``2 * latent_dim`` -> DiagonalGaussian(mean, clamped log-variance)."""

    latent_dim: int

    @nn.compact
    def __call__(self, features: Array) -> DiagonalGaussian:
        out = nn.Dense(2 * self.latent_dim)(features)
        loc, log_var = jnp.split(out, 2, axis=-1)
        return DiagonalGaussian(loc=loc, log_var=clamp_log_var(log_var))


class DeltaPosteriorHead(nn.Module):
    """Dense layer to ``latent_dim`` -> a point mass (deterministic autoencoder)."""

    latent_dim: int

    @nn.compact
    def __call__(self, features: Array) -> Delta:
        return Delta(value=nn.Dense(self.latent_dim)(features))


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I); no parameters."""

    latent_dim: int

    def __call__(self) -> StandardNormal:
        return StandardNormal(latent_dim=self.latent_dim)


class BernoulliHead(nn.Module):
    """Decoder output = per-pixel logits."""

    params_per_pixel: int = 1

    def __call__(self, out: Array) -> Bernoulli:
        return Bernoulli(logits=out)


class GaussianHead(nn.Module):
    """Gaussian pixels with a fixed, a learned shared, or a learned per-pixel sigma.

    Attributes:
      sigma: ``"fixed"`` (``fixed_sigma``), ``"shared"`` (one learned scalar, initialised at
        ``fixed_sigma``) or ``"per_pixel"`` (the decoder outputs a log-sigma channel per channel).
      fixed_sigma: the fixed value, or the initial value of the shared one (pixel units).
    """

    sigma: str = "fixed"
    fixed_sigma: float = 1.0

    @property
    def params_per_pixel(self) -> int:
        return 2 if self.sigma == "per_pixel" else 1

    @nn.compact
    def __call__(self, out: Array) -> Gaussian:
        if self.sigma == "per_pixel":
            loc, log_scale = jnp.split(out, 2, axis=-1)
            # Same clamp as the posterior's log-variance (halved: this is a log-scale).
            return Gaussian(loc=loc, log_scale=jnp.clip(log_scale, -15.0, 10.0))
        init = math.log(self.fixed_sigma)
        if self.sigma == "shared":
            log_scale = self.param("log_sigma", lambda _: jnp.asarray(init, jnp.float32))
        else:
            log_scale = jnp.asarray(init, jnp.float32)
        return Gaussian(loc=out, log_scale=log_scale)
