"""Critics: a second player that scores latent codes (FactorVAE, WAE-GAN, adversarial AE)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array


class MLPCritic(nn.Module):
    """``z: [B, D] -> logit [B]``: the log-odds that ``z`` came from the "real" distribution.

    Attributes:
      hidden: widths of the hidden layers (Kim & Mnih 2018 use six of 1000 units).
      activation: a key of :data:`aejax.nn.mlp.ACTIVATIONS` (the papers use leaky ReLU).
    """

    hidden: Sequence[int]
    activation: str = "leaky_relu"

    @nn.compact
    def __call__(self, z: Array) -> Array:
        act = ACTIVATIONS[self.activation]
        h = z
        for width in self.hidden:
            h = act(nn.Dense(width)(h))
        return nn.Dense(1)(h)[..., 0]
