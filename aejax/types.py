"""Shared type aliases and the small structs that cross module boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax

Array = jax.Array
PRNGKey = jax.Array  # a typed key from ``jax.random.key``
Batch = Mapping[str, Array]  # {"image": [B, H, W, C], optionally "label": [B], ...}
HParams = Mapping[str, Array]  # scalar arrays that ablations vary: beta, learning_rate, ...
PyTree = Any


class LossTerms(NamedTuple):
    """What an objective returns: per-example values, never reduced.

    Attributes:
      loss: ``[B]`` the quantity whose batch mean is minimised.
      terms: named ``[B]`` diagnostics (``recon``, ``kl``, ``neg_elbo``, ...) in nats per example.
      aux_loss: ``[B]`` the second player's loss (a critic's), minimised over ``params["critic"]``
        only, while ``loss`` is minimised over every other parameter; ``None`` when the objective
        has one player.
    """

    loss: Array
    terms: Mapping[str, Array]
    aux_loss: Array | None = None
