"""1-D networks: a WaveNet-style autoencoder of dilated causal convolutions (audio clips).

An input ``x: [B, H, W, C]`` is read as a sequence of ``T = H * W`` steps in raster order, so a
clip stored as ``[B, T, 1, 1]`` (:mod:`aejax.data.audio`) is the 1-D signal itself and an image
becomes its raster scan. Every conv is causal (``padding="CAUSAL"``: output ``t`` sees inputs
``<= t`` only). A stage is a stride-2 causal conv followed by ``blocks`` gated residual blocks
whose kernel-2 convs have dilations ``1, 2, 4, ..., 2^(blocks-1)``, so one stage sees
``2^blocks`` steps at its own resolution (van den Oord et al., "WaveNet", 2016, section 2.1-2.4).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from aejax.nn import layers
from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array

CAUSAL_KERNEL = 2  # WaveNet's dilated convs
DOWN_KERNEL = 4  # the encoder's stride-2 causal convs


class WaveNetBlock(nn.Module):
    """Gated residual block on ``x: [B, T, C]``: ``x + W_o (tanh(W_f * x) * sigmoid(W_g * x))``.

    ``W_f`` and ``W_g`` are one causal conv of ``2 C`` outputs, kernel 2, dilation ``dilation``,
    of type ``kind`` (standard or separable); ``W_o`` is 1x1. WaveNet's skip-connection sum is
    left out: the autoencoder reads the last block's output.
    """

    dilation: int
    kind: str = "standard"
    norm: str = "none"
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        c = x.shape[-1]
        h = layers.Norm(self.norm)(x, train=train)
        kind = "dilated" if self.kind == "standard" else self.kind
        if kind == "separable":
            h = layers.SeparableConv(2 * c, (CAUSAL_KERNEL,), 1, self.dilation, "CAUSAL")(h)
        else:
            h = layers.conv(
                2 * c, (CAUSAL_KERNEL,), kind=kind, dilation=self.dilation, padding="CAUSAL"
            )(h)
        f, g = jnp.split(h, 2, axis=-1)
        h = jnp.tanh(f) * nn.sigmoid(g)
        h = layers.dropout(h, self.dropout, train=train)
        return x + nn.Conv(c, (1,), name="out")(h)


def causal_receptive_field(num_stages: int, blocks: int) -> int:
    """Receptive field (input steps) of :class:`CausalStack` with ``num_stages`` stages."""
    stack = []
    for _ in range(num_stages):
        stack.append((DOWN_KERNEL, 2))
        stack += [(2**i * (CAUSAL_KERNEL - 1) + 1, 1) for i in range(blocks)]
    return layers.receptive_field(stack)


def _as_sequence(x: Array) -> Array:
    """``[B, H, W, C] -> [B, H * W, C]`` (raster order)."""
    return x.reshape((x.shape[0], -1, x.shape[-1]))


class CausalStack(nn.Module):
    """The causal part of the encoder: ``[B, T, C] -> [B, ceil(T / 2^L), channels[-1]]``.

    Output step ``i`` depends on input steps ``<= 2 i + 1`` only (the last input its stride-2
    window reaches), and on :meth:`receptive_field` of them.

    Attributes:
      channels: width of each stage (each halves ``T`` with a stride-2, kernel-4 causal conv).
      blocks: gated blocks per stage (dilations ``1 .. 2^(blocks-1)``).
      conv: ``"standard"`` / ``"dilated"`` (both dilated in the blocks) or ``"separable"``.
      norm, dropout, activation: as in :class:`aejax.nn.conv.ConvEncoder`.
    """

    channels: Sequence[int]
    blocks: int = 4
    conv: str = "standard"
    norm: str = "none"
    dropout: float = 0.0
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        act = ACTIVATIONS[self.activation]
        h = x
        kind = "standard" if self.conv == "dilated" else self.conv
        for c in self.channels:
            h = layers.conv(c, (DOWN_KERNEL,), kind=kind, strides=2, padding="CAUSAL")(h)
            h = act(layers.Norm(self.norm)(h, train=train))
            h = layers.dropout(h, self.dropout, train=train)
            for i in range(self.blocks):
                h = WaveNetBlock(2**i, self.conv, self.norm, self.dropout)(h, train=train)
        return h

    def receptive_field(self) -> int:
        """Receptive field (input steps) of one step of the last stage's output."""
        return causal_receptive_field(len(self.channels), self.blocks)


class WaveNetEncoder(nn.Module):
    """``x: [B, H, W, C]`` as ``[B, T, C]`` -> :class:`CausalStack` -> dense ->
    ``[B, out_features]``.

    Attributes:
      channels, blocks, conv, norm, dropout, activation: those of :class:`CausalStack`.
      dense: width of the dense layer after flattening (0 for none).
      out_features: width of the final linear layer.
    """

    channels: Sequence[int]
    dense: int
    out_features: int
    blocks: int = 4
    conv: str = "standard"
    norm: str = "none"
    dropout: float = 0.0
    activation: str = "relu"

    def _stack(self) -> CausalStack:
        return CausalStack(
            self.channels, self.blocks, self.conv, self.norm, self.dropout, self.activation
        )

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        act = ACTIVATIONS[self.activation]
        h = layers.flatten_spatial(self._stack()(_as_sequence(x), train=train))
        if self.dense:
            h = act(layers.Norm(self.norm)(nn.Dense(self.dense)(h), train=train))
            h = layers.dropout(h, self.dropout, train=train)
        return nn.Dense(self.out_features)(h)

    def receptive_field(self) -> int:
        """Receptive field (input steps) of one step of the last stage's output."""
        return causal_receptive_field(len(self.channels), self.blocks)


class WaveNetDecoder(nn.Module):
    """``z: [B, D]`` -> dense -> ``[B, T / 2^L, channels[0]]`` -> x2 upsampling stages with
    gated causal blocks -> ``[B, H, W, C_out]`` (``T = H * W`` steps, cropped).

    Attributes:
      channels: width of the first sequence, then of each upsampling but the last (which outputs
        ``C_out``); ``len(channels)`` x2 upsamplings in all.
      dense: width of the dense layer applied to ``z`` first (0 for none).
      out_shape: ``(H, W, C_out)``.
      upsample: ``"resize"`` (nearest x2 then a kernel-2 causal conv) or ``"transpose"``
        (kernel-4, stride-2 transposed conv).
      blocks, conv, norm, dropout, activation: as in :class:`WaveNetEncoder`.
    """

    channels: Sequence[int]
    dense: int
    out_shape: tuple[int, int, int]
    upsample: str = "resize"
    blocks: int = 4
    conv: str = "standard"
    norm: str = "none"
    dropout: float = 0.0
    activation: str = "relu"

    def _stage(self, h: Array, act, train: bool) -> Array:
        h = act(layers.Norm(self.norm)(h, train=train))
        h = layers.dropout(h, self.dropout, train=train)
        for i in range(self.blocks):
            h = WaveNetBlock(2**i, self.conv, self.norm, self.dropout)(h, train=train)
        return h

    def _up(self, h: Array, features: int) -> Array:
        kind = "standard" if self.conv == "dilated" else self.conv
        return layers.upsample(
            h,
            features,
            how=self.upsample,
            kind=kind,
            dilation=1,
            resize_kernel=CAUSAL_KERNEL,
            padding="CAUSAL",
        )

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        act = ACTIVATIONS[self.activation]
        height, width, c_out = self.out_shape
        steps = height * width
        t0 = steps
        for _ in self.channels:
            t0 = -(-t0 // 2)
        h = z
        if self.dense:
            h = act(layers.Norm(self.norm)(nn.Dense(self.dense)(h), train=train))
            h = layers.dropout(h, self.dropout, train=train)
        c0 = self.channels[0]
        h = nn.Dense(t0 * c0)(h).reshape((z.shape[0], t0, c0))
        h = self._stage(h, act, train)
        for c in self.channels[1:]:
            h = self._stage(self._up(h, c), act, train)
        h = self._up(h, c_out)[:, :steps, :]
        return h.reshape((z.shape[0], height, width, c_out))
