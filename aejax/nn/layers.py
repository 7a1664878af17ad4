"""Layers shared by every network, in any number of spatial dimensions (1-D audio, 2-D images).

Shapes are channels-last: ``x: [B, *spatial, C]``; the number of spatial dimensions is
``len(kernel_size)`` (``(k,)`` for 1-D, ``(k, k)`` for 2-D).

* :func:`conv`: a conv of one of :data:`CONV_TYPES`. ``"standard"`` is a dense kernel,
  ``"separable"`` a depthwise conv (one filter per input channel, ``feature_group_count = C``)
  followed by a pointwise 1x1 conv (Chollet 2017), ``"dilated"`` a standard conv whose kernel taps
  are ``dilation`` apart (Yu & Koltun 2016).
* :class:`ConvTranspose`: a transposed conv, defined as the gradient of the matching conv with
  respect to its input (``lax.conv_transpose(..., transpose_kernel=True)``).
* :func:`upsample`: x2 along every spatial axis, by a transposed conv or by nearest-neighbour
  resize then a conv (Odena et al. 2016: no checkerboard artefacts, and on XLA:CPU much faster to
  differentiate than a stride-2 transposed conv; docs/performance.md).
* :class:`Norm` (:data:`NORMS`) and :func:`dropout`, the per-layer options of every network.
* :class:`ResidualBlock` and :class:`LargeKernelAttentionBlock` (VAN), the :data:`BLOCKS`.
* :func:`receptive_field`: the receptive field of a stack of convs, in input samples per axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from aejax.types import Array

CONV_TYPES: tuple[str, ...] = ("standard", "separable", "dilated")
NORMS: tuple[str, ...] = ("none", "batch", "layer", "group")
BLOCKS: tuple[str, ...] = ("residual", "van")
UPSAMPLES: tuple[str, ...] = ("resize", "transpose")
GROUPS = 8  # group norm: gcd(GROUPS, C) groups
BATCH_NORM_MOMENTUM = 0.9  # running average <- m * running + (1 - m) * batch statistic
# VAN's large-kernel attention (Guo et al. 2023, table 1 of the paper for K = 21, d = 3):
# a 5x5 depthwise conv, a 7x7 depthwise conv with dilation 3, a 1x1 conv; 23x23 receptive field.
LKA_LOCAL, LKA_DILATED, LKA_DILATION = 5, 7, 3


class SeparableConv(nn.Module):
    """Depthwise conv (``kernel_size``, one filter per input channel) then a 1x1 conv.

    Attributes:
      features: output channels.
      kernel_size: spatial size of the depthwise kernel; its length is the number of spatial dims.
      strides: stride of the depthwise conv (same on every axis).
      dilation: spacing of the depthwise kernel's taps.
      padding: ``"SAME"``, ``"VALID"`` or, for 1-D, ``"CAUSAL"``.

    Parameters: ``depthwise/kernel [*kernel_size, 1, C_in]`` (no bias) and
    ``pointwise/kernel [1.., C_in, features]`` with ``pointwise/bias [features]``.
    """

    features: int
    kernel_size: tuple[int, ...]
    strides: int = 1
    dilation: int = 1
    padding: str = "SAME"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        nd = len(self.kernel_size)
        c = x.shape[-1]
        h = nn.Conv(
            c,
            self.kernel_size,
            strides=(self.strides,) * nd,
            padding=self.padding,
            kernel_dilation=(self.dilation,) * nd,
            feature_group_count=c,
            use_bias=False,
            name="depthwise",
        )(x)
        return nn.Conv(self.features, (1,) * nd, name="pointwise")(h)


def conv(
    features: int,
    kernel_size: Sequence[int],
    *,
    kind: str = "standard",
    strides: int = 1,
    dilation: int = 2,
    padding: str = "SAME",
    name: str | None = None,
) -> nn.Module:
    """A conv layer of type ``kind`` (one of :data:`CONV_TYPES`), called inside a compact method.

    ``dilation`` is used by ``kind="dilated"`` only; ``"standard"`` and ``"separable"`` have
    adjacent taps. The standard and dilated layers are plain ``nn.Conv`` (named ``Conv_i`` in the
    caller's scope), so networks built from them keep the parameter names of earlier versions.
    """
    kernel_size = tuple(int(k) for k in kernel_size)
    nd = len(kernel_size)
    if kind == "separable":
        return SeparableConv(features, kernel_size, strides, 1, padding, name=name)
    if kind not in ("standard", "dilated"):
        raise ValueError(f"conv kind {kind!r}; choose one of {', '.join(CONV_TYPES)}")
    d = dilation if kind == "dilated" else 1
    return nn.Conv(
        features,
        kernel_size,
        strides=(strides,) * nd,
        padding=padding,
        kernel_dilation=(d,) * nd,
        name=name,
    )


class ConvTranspose(nn.Module):
    """The transposed conv: ``y = (d/dx <u, conv(x; W)>)`` evaluated at cotangent ``u = input``.

    With stride ``s`` and ``"SAME"`` padding, ``[B, *S, C_in] -> [B, *(s S), features]``. The
    kernel is stored as the matching forward conv's kernel, ``[*kernel_size, features, C_in]``,
    and initialised with the fan-in of the transposed layer (``C_in`` taps per output).
    """

    features: int
    kernel_size: tuple[int, ...]
    strides: int = 2
    padding: str = "SAME"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        nd = len(self.kernel_size)
        init = nn.initializers.variance_scaling(
            1.0, "fan_in", "truncated_normal", in_axis=-1, out_axis=-2
        )
        kernel = self.param("kernel", init, (*self.kernel_size, self.features, x.shape[-1]))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        y = lax.conv_transpose(x, kernel, (self.strides,) * nd, self.padding, transpose_kernel=True)
        return y + bias.reshape((1,) * (y.ndim - 1) + (-1,))


def upsample(
    h: Array,
    features: int,
    *,
    how: str,
    kind: str,
    dilation: int,
    resize_kernel: int = 3,
    transpose_kernel: int = 4,
    padding: str = "SAME",
) -> Array:
    """x2 along every spatial axis of ``h: [B, *S, C]`` -> ``[B, *(2 S), features]``.

    ``how="resize"``: nearest-neighbour resize then a ``resize_kernel`` conv of type ``kind``;
    ``how="transpose"``: a ``transpose_kernel``, stride-2 :class:`ConvTranspose` (always a
    standard kernel, whatever ``kind``).
    """
    nd = h.ndim - 2
    if how == "transpose":
        return ConvTranspose(features, (transpose_kernel,) * nd, strides=2)(h)
    if how != "resize":
        raise ValueError(f"upsample {how!r}; choose one of {', '.join(UPSAMPLES)}")
    shape = (h.shape[0], *(2 * s for s in h.shape[1:-1]), h.shape[-1])
    h = jax.image.resize(h, shape, method="nearest")
    return conv(features, (resize_kernel,) * nd, kind=kind, dilation=dilation, padding=padding)(h)


class Norm(nn.Module):
    """Normalisation of ``x: [B, ..., C]`` over the axes :data:`NORMS` names.

    ``"batch"``: over every axis but the last, with batch statistics when ``train`` and running
    averages (collection ``batch_stats``, momentum :data:`BATCH_NORM_MOMENTUM`) otherwise (Ioffe &
    Szegedy 2015); ``"layer"``: over the channel axis of each position (Ba et al. 2016);
    ``"group"``: over each position's spatial extent and a group of ``C / gcd(GROUPS, C)``
    channels (Wu & He 2018); ``"none"``: identity. Each has a learned scale and offset.
    """

    kind: str = "none"

    @nn.compact
    def __call__(self, x: Array, *, train: bool) -> Array:
        if self.kind == "none":
            return x
        if self.kind == "batch":
            return nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM)(x)
        if self.kind == "layer":
            return nn.LayerNorm()(x)
        if self.kind == "group":
            return nn.GroupNorm(num_groups=math.gcd(GROUPS, x.shape[-1]))(x)
        raise ValueError(f"norm {self.kind!r}; choose one of {', '.join(NORMS)}")


def dropout(x: Array, rate: float, *, train: bool) -> Array:
    """Inverted dropout keyed by the ``"dropout"`` rng stream; the identity when not ``train``.

    Called inside a compact method; with ``rate = 0`` no module is created (parameter-free either
    way, so enabling dropout never changes a checkpoint's layout).
    """
    if not rate:
        return x
    return nn.Dropout(rate, deterministic=not train)(x)


class ResidualBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016): ``x + conv(act(norm(conv(act(norm(x))))))``.

    Both convs keep the width and size of ``x: [B, *S, C]`` and are of type ``kind``; dropout acts
    between them.
    """

    kind: str = "standard"
    dilation: int = 2
    kernel: int = 3
    norm: str = "none"
    dropout: float = 0.0
    activation: Callable[[Array], Array] = nn.relu
    padding: str = "SAME"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        nd, c = x.ndim - 2, x.shape[-1]
        k = (self.kernel,) * nd
        h = self.activation(Norm(self.norm)(x, train=train))
        h = conv(c, k, kind=self.kind, dilation=self.dilation, padding=self.padding)(h)
        h = self.activation(Norm(self.norm)(h, train=train))
        h = dropout(h, self.dropout, train=train)
        h = conv(c, k, kind=self.kind, dilation=self.dilation, padding=self.padding)(h)
        return x + h


class LargeKernelAttention(nn.Module):
    """VAN's large-kernel attention: ``x * conv1x1(dwconv_dilated(dwconv(x)))``.

    A 5x5 depthwise conv, a 7x7 depthwise conv with dilation 3, and a pointwise conv give an
    attention map the size of ``x: [B, *S, C]`` that gates ``x`` elementwise (Guo et al., "Visual
    Attention Network", 2023, eq. 2).
    """

    @nn.compact
    def __call__(self, x: Array) -> Array:
        nd, c = x.ndim - 2, x.shape[-1]
        a = nn.Conv(c, (LKA_LOCAL,) * nd, feature_group_count=c, name="depthwise")(x)
        a = nn.Conv(
            c,
            (LKA_DILATED,) * nd,
            kernel_dilation=(LKA_DILATION,) * nd,
            feature_group_count=c,
            name="depthwise_dilated",
        )(a)
        a = nn.Conv(c, (1,) * nd, name="pointwise")(a)
        return x * a


class LargeKernelAttentionBlock(nn.Module):
    """VAN's attention sub-block: ``x + proj2(LKA(gelu(proj1(norm(x)))))`` (1x1 projections).

    VAN follows it with a feed-forward sub-block; here the encoder's own convs play that role.
    """

    norm: str = "none"
    dropout: float = 0.0
    activation: Callable[[Array], Array] = nn.gelu

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        nd, c = x.ndim - 2, x.shape[-1]
        h = nn.Conv(c, (1,) * nd, name="proj1")(Norm(self.norm)(x, train=train))
        h = LargeKernelAttention()(self.activation(h))
        h = dropout(h, self.dropout, train=train)
        return x + nn.Conv(c, (1,) * nd, name="proj2")(h)


def block(block_kind: str, **kwargs) -> nn.Module:
    """A block of type ``block_kind`` (one of :data:`BLOCKS`) with the options it accepts
    (:class:`ResidualBlock`'s; the VAN block reads ``norm`` and ``dropout``)."""
    if block_kind == "residual":
        return ResidualBlock(**kwargs)
    if block_kind == "van":
        return LargeKernelAttentionBlock(
            norm=kwargs.get("norm", "none"), dropout=kwargs.get("dropout", 0.0)
        )
    raise ValueError(f"block {block_kind!r}; choose one of {', '.join(BLOCKS)}")


def block_extent(kind: str, conv_kind: str, dilation: int, kernel: int = 3) -> int:
    """How far (in samples at the block's resolution) a block widens the receptive field."""
    if kind == "van":
        return (LKA_LOCAL - 1) + (LKA_DILATED - 1) * LKA_DILATION
    d = dilation if conv_kind == "dilated" else 1
    return 2 * (kernel - 1) * d


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Receptive field (input samples along one axis) of a stack of layers.

    ``layers``: ``(extent, stride)`` per layer in order, where ``extent`` is the span of the
    layer's effective kernel (``dilation * (k - 1) + 1`` for a conv). Each layer adds
    ``(extent - 1) * jump``, where ``jump`` is the product of the strides before it (Araujo et
    al., "Computing receptive fields of convolutional neural networks", Distill 2019, eq. 2).
    """
    field, jump = 1, 1
    for extent, stride in layers:
        field += (extent - 1) * jump
        jump *= stride
    return field


def flatten_spatial(x: Array) -> Array:
    """``[B, ...] -> [B, prod(...)]``."""
    return jnp.reshape(x, (x.shape[0], -1))
