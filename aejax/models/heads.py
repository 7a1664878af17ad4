"""Heads turn network outputs into distributions (prior modules live in ``models/priors.py``).

Posterior heads take encoder features ``[B, F]`` and return q(z|x). Likelihood heads take the
decoder's image-shaped output ``[B, H, W, C * params_per_pixel]`` and return p(x|z).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp

from aejax.distributions import (
    Bernoulli,
    ContinuousBernoulli,
    Delta,
    DiagonalGaussian,
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    Gaussian,
)
from aejax.distributions.posteriors import clamp_log_var
from aejax.models.priors import StandardNormalPrior  # noqa: F401  (its former home)
from aejax.models.spec import PartSpec
from aejax.types import Array, Option


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


# Logistic log-scales are clamped to this range (pixel units). PixelCNN++ clamps at -7 on its
# [-1, 1] scale, i.e. about -7.7 here: exp(-8) ~ 3e-4 is a tenth of one 8-bit level, small enough
# for a bin to take all the mass, and the bound keeps 1/scale (and the gradients) moderate.
LOGISTIC_LOG_SCALE_MIN = -8.0
LOGISTIC_LOG_SCALE_MAX = 5.0


def _pixel_log_scale(log_scale: Array) -> Array:
    return jnp.clip(log_scale, LOGISTIC_LOG_SCALE_MIN, LOGISTIC_LOG_SCALE_MAX)


class ContinuousBernoulliHead(nn.Module):
    """Decoder output = per-pixel logits of a continuous Bernoulli (a density on [0, 1])."""

    params_per_pixel: int = 1

    def __call__(self, out: Array) -> ContinuousBernoulli:
        return ContinuousBernoulli(logits=out)


class LogisticHead(nn.Module):
    """Discretized logistic pixels: the decoder outputs ``[loc | log_scale]`` channel blocks.

    ``loc`` is offset by 0.5 so a zero output starts mid-range (pixel units).
    """

    num_bins: int = 256
    params_per_pixel: int = 2

    def __call__(self, out: Array) -> DiscretizedLogistic:
        loc, log_scale = jnp.split(out, 2, axis=-1)
        return DiscretizedLogistic(
            loc=loc + 0.5, log_scale=_pixel_log_scale(log_scale), num_bins=self.num_bins
        )


class LogisticMixtureHead(nn.Module):
    """A mixture of ``num_components`` discretized logistics per pixel and channel.

    The decoder's ``3 K C`` output channels are ``K`` blocks of ``C`` mixture logits, then ``K``
    blocks of locations (offset by 0.5), then ``K`` blocks of log-scales.
    """

    num_components: int = 5
    num_bins: int = 256

    @property
    def params_per_pixel(self) -> int:
        return 3 * self.num_components

    def __call__(self, out: Array) -> DiscretizedLogisticMixture:
        k = self.num_components
        c = out.shape[-1] // self.params_per_pixel
        # [..., 3K*C] -> [..., C, 3K]: component params on the last axis.
        params = jnp.moveaxis(out.reshape(*out.shape[:-1], 3 * k, c), -2, -1)
        logits, loc, log_scale = jnp.split(params, 3, axis=-1)
        return DiscretizedLogisticMixture(
            logits=logits,
            loc=loc + 0.5,
            log_scale=_pixel_log_scale(log_scale),
            num_bins=self.num_bins,
        )


def _gaussian_posterior(latent_dim: int) -> GaussianPosteriorHead:
    return GaussianPosteriorHead(latent_dim)


def _delta_posterior(latent_dim: int) -> DeltaPosteriorHead:
    return DeltaPosteriorHead(latent_dim)


# model.posterior -> spec; ``features``: encoder outputs per latent dimension (mean, log-variance).
POSTERIORS = {
    "gaussian": PartSpec(make=_gaussian_posterior, features=2),
    "delta": PartSpec(make=_delta_posterior, features=1),
}
GAUSSIAN_SIGMAS = ("fixed", "shared", "per_pixel")
# model.likelihood -> spec.
LIKELIHOODS = {
    "bernoulli": PartSpec(make=BernoulliHead),
    "gaussian": PartSpec(
        make=GaussianHead,
        options={
            "sigma": Option("gaussian_sigma", GAUSSIAN_SIGMAS),
            "fixed_sigma": Option("fixed_sigma", kind="number"),
        },
    ),
    "continuous_bernoulli": PartSpec(make=ContinuousBernoulliHead),
    "logistic": PartSpec(make=LogisticHead),
    "logistic_mixture": PartSpec(
        make=LogisticMixtureHead,
        options={"num_components": Option("logistic_components", minimum=1)},
    ),
}
