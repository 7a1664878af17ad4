"""Model glue: an autoencoder is encoder + posterior head + prior + decoder + likelihood head."""

from aejax.models.autoencoder import AutoEncoder
from aejax.models.heads import (
    BernoulliHead,
    DeltaPosteriorHead,
    GaussianHead,
    GaussianPosteriorHead,
    StandardNormalPrior,
)
from aejax.models.hierarchical import HierarchicalAutoEncoder
from aejax.models.latent import LatentSample

__all__ = [
    "AutoEncoder",
    "BernoulliHead",
    "DeltaPosteriorHead",
    "GaussianHead",
    "GaussianPosteriorHead",
    "HierarchicalAutoEncoder",
    "LatentSample",
    "StandardNormalPrior",
]
