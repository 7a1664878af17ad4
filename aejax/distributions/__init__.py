"""Distributions: the currency between encoder, prior, decoder and objective.

Method names follow distrax (``sample``, ``log_prob``, ``kl_divergence``, ``mean``, ``mode``) so a
user can swap in distrax or ``tfp.substrates.jax`` objects. Every distribution is a pytree
(``flax.struct.dataclass``) so it can cross ``jit``/``vmap`` boundaries. Event dimensions are
summed: ``log_prob`` returns one value per example, ``[B]``.
"""

from aejax.distributions.discretized import (
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    bits_per_dim,
)
from aejax.distributions.flows import RealNVP
from aejax.distributions.likelihoods import Bernoulli, ContinuousBernoulli, Gaussian
from aejax.distributions.posteriors import Delta, DiagonalGaussian
from aejax.distributions.priors import MixtureOfGaussians, StandardNormal

__all__ = [
    "Bernoulli",
    "ContinuousBernoulli",
    "Delta",
    "DiagonalGaussian",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "Gaussian",
    "MixtureOfGaussians",
    "RealNVP",
    "StandardNormal",
    "bits_per_dim",
]
