"""Fully connected encoder and decoder.

Every hidden layer is ``Dense -> norm -> activation -> dropout``; with ``norm="none"`` and
``dropout=0`` the networks (and their parameter names) are the plain MLPs of earlier versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from aejax.nn.layers import Norm, dropout
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
      norm: a key of :data:`aejax.nn.layers.NORMS` applied to each hidden layer.
      dropout: drop rate after each hidden activation (``"dropout"`` rng; off at eval).
    """

    hidden: Sequence[int]
    out_features: int
    activation: str = "relu"
    norm: str = "none"
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        h = _hidden(self, x.reshape((x.shape[0], -1)), train)
        return nn.Dense(self.out_features)(h)


class MLPDecoder(nn.Module):
    """Maps ``z: [B, D]`` through hidden layers to image-shaped parameters ``[B, H, W, C_out]``.

    Attributes:
      hidden: widths of the hidden layers (each followed by ``activation``).
      out_shape: ``(H, W, C_out)``; ``C_out`` = image channels x likelihood parameters per pixel.
      activation: a key of :data:`ACTIVATIONS`.
      norm, dropout: as in :class:`MLPEncoder`.
    """

    hidden: Sequence[int]
    out_shape: tuple[int, int, int]
    activation: str = "relu"
    norm: str = "none"
    dropout: float = 0.0

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        h = _hidden(self, z, train)
        out = nn.Dense(math.prod(self.out_shape))(h)
        return out.reshape((z.shape[0], *self.out_shape))


def _hidden(net, h: Array, train: bool) -> Array:
    """``net.hidden`` layers of ``Dense -> Norm -> activation -> dropout`` (inside a compact call;
    the Dense layers keep their automatic names ``Dense_0, Dense_1, ...``)."""
    act = ACTIVATIONS[net.activation]
    for width in net.hidden:
        h = act(Norm(net.norm)(nn.Dense(width)(h), train=train))
        h = dropout(h, net.dropout, train=train)
    return h
