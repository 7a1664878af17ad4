"""Convolutional encoder (strided convs) and decoder (upsampling convs), dSprites-style.

The decoder upsamples by nearest-neighbour resize followed by a 3x3 conv by default: on XLA:CPU
(jaxlib 0.10.2) the gradient of a stride-2 transposed conv runs about 10x slower than resize+conv
of the same output size, and resize+conv also avoids checkerboard artefacts.
``upsample="transpose"`` selects 4x4 stride-2 transposed convs instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax

from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array


class ConvEncoder(nn.Module):
    """``x: [B, H, W, C]`` -> strided 4x4 convs -> dense -> ``[B, out_features]``.

    Each conv halves H and W (stride 2, SAME padding), so ``H`` and ``W`` need not be powers of 2.

    Attributes:
      channels: output channels of each conv layer.
      dense: width of the dense layer after flattening (0 for none).
      out_features: width of the final linear layer.
    """

    channels: Sequence[int]
    dense: int
    out_features: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        del train
        act = ACTIVATIONS[self.activation]
        h = x
        for c in self.channels:
            h = act(nn.Conv(c, (4, 4), strides=(2, 2), padding="SAME")(h))
        h = h.reshape((h.shape[0], -1))
        if self.dense:
            h = act(nn.Dense(self.dense)(h))
        return nn.Dense(self.out_features)(h)


def _start_size(size: int, num_layers: int) -> int:
    """Spatial size before ``num_layers`` stride-2 upsamplings that must reach at least ``size``."""
    s = size
    for _ in range(num_layers):
        s = -(-s // 2)
    return s


class ConvDecoder(nn.Module):
    """``z: [B, D]`` -> dense -> reshape -> x2 upsampling convs -> ``[B, H, W, C_out]``.

    The first feature map is ``ceil(H / 2^L) x ceil(W / 2^L)``; the output is cropped to
    ``(H, W)`` so odd sizes such as 28 work.

    Attributes:
      channels: channels of the first feature map, then of each transposed conv but the last
        (which outputs ``C_out``); ``len(channels)`` stride-2 upsamplings in all. Non-empty.
      dense: width of the dense layer applied to ``z`` first (0 for none).
      out_shape: ``(H, W, C_out)``.
      upsample: ``"resize"`` (nearest x2 then 3x3 conv) or ``"transpose"`` (4x4 stride-2).
    """

    channels: Sequence[int]
    dense: int
    out_shape: tuple[int, int, int]
    activation: str = "relu"
    upsample: str = "resize"

    def _up(self, h: Array, features: int) -> Array:
        if self.upsample == "transpose":
            return nn.ConvTranspose(features, (4, 4), strides=(2, 2), padding="SAME")(h)
        b, height, width, c = h.shape
        h = jax.image.resize(h, (b, 2 * height, 2 * width, c), method="nearest")
        return nn.Conv(features, (3, 3), padding="SAME")(h)

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        del train
        act = ACTIVATIONS[self.activation]
        height, width, c_out = self.out_shape
        # channels[0] is the width of the first map; channels[1:] and the output layer upsample.
        num_up = len(self.channels)
        h0, w0 = _start_size(height, num_up), _start_size(width, num_up)
        h = z
        if self.dense:
            h = act(nn.Dense(self.dense)(h))
        c0 = self.channels[0]
        h = act(nn.Dense(h0 * w0 * c0)(h)).reshape((z.shape[0], h0, w0, c0))
        for c in self.channels[1:]:
            h = act(self._up(h, c))
        h = self._up(h, c_out)
        return h[:, :height, :width, :]
