"""Evaluation of a trained run: test-set likelihood bounds and image grids."""

from aejax.evaluation.images import (
    latent_traversals,
    prior_samples_grid,
    reconstruction_grid,
    save_grid,
)
from aejax.evaluation.likelihood import (
    active_units,
    evaluate_split,
    iwae_log_marginal,
    iwae_log_weights,
    iwae_nll,
    log_importance_weights,
)

__all__ = [
    "active_units",
    "evaluate_split",
    "iwae_log_marginal",
    "iwae_log_weights",
    "iwae_nll",
    "latent_traversals",
    "log_importance_weights",
    "prior_samples_grid",
    "reconstruction_grid",
    "save_grid",
]
