"""Fully connected encoder and decoder."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from aejax.types import Array

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": nn.relu,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "tanh": jnp.tanh,
    "softplus": nn.softplus,
    "leaky_relu": nn.leaky_relu,
    "swish": nn.swish,
}


class MLPEncoder(nn.Module):
    """Flattens ``x: [B, H, W, C]`` and maps it through hidden layers to ``[B, out_features]``.

    Attributes:
      hidden: widths of the hidden layers (each followed by ``activation``).
      out_features: width of the final linear layer (the posterior head's input size).
      activation: a key of :data:`ACTIVATIONS`.
    """

    hidden: Sequence[int]
    out_features: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        del train  # no train-time behaviour yet (dropout / batch norm come with the model family)
        act = ACTIVATIONS[self.activation]
        h = x.reshape((x.shape[0], -1))
        for width in self.hidden:
            h = act(nn.Dense(width)(h))
        return nn.Dense(self.out_features)(h)


class MLPDecoder(nn.Module):
    """Maps ``z: [B, D]`` through hidden layers to image-shaped parameters ``[B, H, W, C_out]``.

    Attributes:
      hidden: widths of the hidden layers (each followed by ``activation``).
      out_shape: ``(H, W, C_out)``; ``C_out`` = image channels x likelihood parameters per pixel.
      activation: a key of :data:`ACTIVATIONS`.
    """

    hidden: Sequence[int]
    out_shape: tuple[int, int, int]
    activation: str = "relu"

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        del train
        act = ACTIVATIONS[self.activation]
        h = z
        for width in self.hidden:
            h = act(nn.Dense(width)(h))
        out = nn.Dense(math.prod(self.out_shape))(h)
        return out.reshape((z.shape[0], *self.out_shape))
