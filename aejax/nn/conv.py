"""Convolutional encoder (strided convs) and decoder (upsampling convs), dSprites-style.

Every conv is of the type ``conv`` names (:data:`aejax.nn.layers.CONV_TYPES`: standard,
depthwise-separable or dilated). Each resolution may add ``blocks`` residual or VAN attention
blocks, and every hidden layer may be followed by a normalisation and dropout.

The decoder upsamples by nearest-neighbour resize followed by a 3x3 conv by default: on XLA:CPU
the gradient of a stride-2 transposed conv runs far slower than resize+conv of the same output
size (docs/performance.md), and resize+conv also avoids checkerboard artefacts.
``upsample="transpose"`` selects 4x4 stride-2 transposed convs instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from aejax.nn import layers
from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array

DOWN_KERNEL = 4  # the encoder's stride-2 convs
RESIZE_KERNEL = 3  # the conv after a nearest-neighbour x2 resize
BLOCK_KERNEL = 3  # the convs of a residual block


class ConvEncoder(nn.Module):
    """``x: [B, H, W, C]`` -> strided 4x4 convs (+ blocks) -> dense -> ``[B, out_features]``.

    Each conv halves H and W (stride 2, SAME padding), so ``H`` and ``W`` need not be powers of 2.
    One stage is: conv, norm, activation, dropout, then ``blocks`` blocks of type ``block``.

    Attributes:
      channels: output channels of each conv layer.
      dense: width of the dense layer after flattening (0 for none).
      out_features: width of the final linear layer.
      conv: conv type (standard / separable / dilated); ``dilation`` for dilated convs.
      blocks: blocks per stage; ``block``: ``"residual"`` or ``"van"``.
      norm: a key of :data:`aejax.nn.layers.NORMS`; ``dropout``: drop rate of hidden layers.
    """

    channels: Sequence[int]
    dense: int
    out_features: int
    activation: str = "relu"
    conv: str = "standard"
    dilation: int = 2
    blocks: int = 0
    block: str = "residual"
    norm: str = "none"
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        act = ACTIVATIONS[self.activation]
        h = x
        for c in self.channels:
            h = layers.conv(
                c, (DOWN_KERNEL,) * 2, kind=self.conv, strides=2, dilation=self.dilation
            )(h)
            h = act(layers.Norm(self.norm)(h, train=train))
            h = layers.dropout(h, self.dropout, train=train)
            for _ in range(self.blocks):
                h = _block(self, act)(h, train=train)
        h = layers.flatten_spatial(h)
        if self.dense:
            h = act(layers.Norm(self.norm)(nn.Dense(self.dense)(h), train=train))
            h = layers.dropout(h, self.dropout, train=train)
        return nn.Dense(self.out_features)(h)

    def receptive_field(self) -> int:
        """Receptive field (pixels per axis) of one unit of the last conv feature map."""
        d = self.dilation if self.conv == "dilated" else 1
        stack = []
        for _ in self.channels:
            stack.append((d * (DOWN_KERNEL - 1) + 1, 2))
            extent = layers.block_extent(self.block, self.conv, self.dilation, BLOCK_KERNEL)
            stack += [(extent + 1, 1)] * self.blocks
        return layers.receptive_field(stack)


def _block(net, act) -> nn.Module:
    return layers.block(
        net.block,
        kind=net.conv,
        dilation=net.dilation,
        kernel=BLOCK_KERNEL,
        norm=net.norm,
        dropout=net.dropout,
        activation=act,
    )


def _start_size(size: int, num_layers: int) -> int:
    """Spatial size before ``num_layers`` stride-2 upsamplings that must reach at least ``size``."""
    s = size
    for _ in range(num_layers):
        s = -(-s // 2)
    return s


class ConvDecoder(nn.Module):
    """``z: [B, D]`` -> dense -> reshape -> x2 upsampling convs -> ``[B, H, W, C_out]``.

    The first feature map is ``ceil(H / 2^L) x ceil(W / 2^L)``; the output is cropped to
    ``(H, W)`` so odd sizes such as 28 work. ``blocks`` blocks follow the first map and each
    hidden upsampling; the output layer has no norm, dropout or activation.

    Attributes:
      channels: channels of the first feature map, then of each upsampling conv but the last
        (which outputs ``C_out``); ``len(channels)`` stride-2 upsamplings in all. Non-empty.
      dense: width of the dense layer applied to ``z`` first (0 for none).
      out_shape: ``(H, W, C_out)``.
      upsample: ``"resize"`` (nearest x2 then 3x3 conv of type ``conv``) or ``"transpose"``
        (4x4 stride-2 transposed conv).
      conv, dilation, blocks, block, norm, dropout: as in :class:`ConvEncoder`.
    """

    channels: Sequence[int]
    dense: int
    out_shape: tuple[int, int, int]
    activation: str = "relu"
    upsample: str = "resize"
    conv: str = "standard"
    dilation: int = 2
    blocks: int = 0
    block: str = "residual"
    norm: str = "none"
    dropout: float = 0.0

    def _up(self, h: Array, features: int) -> Array:
        return layers.upsample(
            h,
            features,
            how=self.upsample,
            kind=self.conv,
            dilation=self.dilation,
            resize_kernel=RESIZE_KERNEL,
        )

    def _hidden(self, h: Array, act, train: bool) -> Array:
        h = act(layers.Norm(self.norm)(h, train=train))
        h = layers.dropout(h, self.dropout, train=train)
        for _ in range(self.blocks):
            h = _block(self, act)(h, train=train)
        return h

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        act = ACTIVATIONS[self.activation]
        height, width, c_out = self.out_shape
        # channels[0] is the width of the first map; channels[1:] and the output layer upsample.
        num_up = len(self.channels)
        h0, w0 = _start_size(height, num_up), _start_size(width, num_up)
        h = z
        if self.dense:
            h = act(layers.Norm(self.norm)(nn.Dense(self.dense)(h), train=train))
            h = layers.dropout(h, self.dropout, train=train)
        c0 = self.channels[0]
        h = nn.Dense(h0 * w0 * c0)(h).reshape((z.shape[0], h0, w0, c0))
        h = self._hidden(h, act, train)
        for c in self.channels[1:]:
            h = self._hidden(self._up(h, c), act, train)
        h = self._up(h, c_out)
        return h[:, :height, :width, :]
