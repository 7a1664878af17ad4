"""Model glue: an autoencoder is encoder + posterior head + prior + decoder + likelihood head."""

from aejax.models.autoencoder import AutoEncoder
from aejax.models.heads import (
    BernoulliHead,
    ContinuousBernoulliHead,
    DeltaPosteriorHead,
    GaussianHead,
    GaussianPosteriorHead,
    LogisticHead,
    LogisticMixtureHead,
)
from aejax.models.hierarchical import HierarchicalAutoEncoder
from aejax.models.latent import LatentSample
from aejax.models.priors import FlowPrior, MixturePrior, StandardNormalPrior, VampPrior

__all__ = [
    "AutoEncoder",
    "BernoulliHead",
    "ContinuousBernoulliHead",
    "DeltaPosteriorHead",
    "FlowPrior",
    "GaussianHead",
    "GaussianPosteriorHead",
    "HierarchicalAutoEncoder",
    "LatentSample",
    "LogisticHead",
    "LogisticMixtureHead",
    "MixturePrior",
    "StandardNormalPrior",
    "VampPrior",
]
