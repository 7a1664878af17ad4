"""Each layer of aejax.nn.layers against a reference computed another way."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from aejax.nn import layers

DN2 = ("NHWC", "HWIO", "NHWC")


def _init_apply(module, x, **kwargs):
    variables = module.init(jax.random.key(1), x, **kwargs)
    # Random biases too, so a missing bias term would show.
    variables = jax.tree_util.tree_map(
        lambda v: v + 0.1 * jax.random.normal(jax.random.key(2), v.shape), variables
    )
    return variables, module.apply(variables, x, **kwargs)


class _Conv(nn.Module):
    features: int
    kernel: tuple
    kind: str
    strides: int = 1
    dilation: int = 2
    padding: str = "SAME"

    @nn.compact
    def __call__(self, x):
        return layers.conv(
            self.features,
            self.kernel,
            kind=self.kind,
            strides=self.strides,
            dilation=self.dilation,
            padding=self.padding,
        )(x)


@pytest.mark.parametrize("strides, size", [(1, (9, 7)), (2, (11, 8))])
def test_separable_is_grouped_conv_then_pointwise(strides, size):
    x = jax.random.normal(jax.random.key(0), (2, *size, 3))
    v, y = _init_apply(_Conv(5, (3, 3), "separable", strides=strides), x)
    p = v["params"]["SeparableConv_0"]
    dw, pw = p["depthwise"]["kernel"], p["pointwise"]
    assert dw.shape == (3, 3, 1, 3) and pw["kernel"].shape == (1, 1, 3, 5)
    grouped = lax.conv_general_dilated(
        x, dw, (strides, strides), "SAME", dimension_numbers=DN2, feature_group_count=3
    )
    # Also check the depthwise step channel by channel (a grouped conv is C separate convs).
    for c in range(3):
        alone = lax.conv_general_dilated(
            x[..., c : c + 1], dw[..., c : c + 1], (strides, strides), "SAME", dimension_numbers=DN2
        )
        np.testing.assert_allclose(grouped[..., c : c + 1], alone, rtol=1e-5, atol=1e-5)
    ref = np.einsum("bhwc,cd->bhwd", grouped, pw["kernel"][0, 0]) + np.asarray(pw["bias"])
    assert y.shape == (2, -(-size[0] // strides), -(-size[1] // strides), 5)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_dilated_is_standard_conv_with_zero_dilated_kernel():
    x = jax.random.normal(jax.random.key(0), (2, 13, 10, 2))
    v, y = _init_apply(_Conv(4, (3, 3), "dilated", dilation=3), x)
    k = np.asarray(v["params"]["Conv_0"]["kernel"])
    big = np.zeros((7, 7, 2, 4), np.float32)  # 3 taps, 2 zeros between neighbours
    big[::3, ::3] = k
    ref = lax.conv_general_dilated(x, big, (1, 1), "SAME", dimension_numbers=DN2)
    bias = np.asarray(v["params"]["Conv_0"]["bias"])
    np.testing.assert_allclose(y, np.asarray(ref) + bias, rtol=1e-5, atol=1e-5)
    # The standard kind ignores the dilation: adjacent taps.
    v2, y2 = _init_apply(_Conv(4, (3, 3), "standard", dilation=3), x)
    k2 = v2["params"]["Conv_0"]
    ref2 = lax.conv_general_dilated(x, k2["kernel"], (1, 1), "SAME", dimension_numbers=DN2)
    np.testing.assert_allclose(y2, np.asarray(ref2) + np.asarray(k2["bias"]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (2, 9, 3)])
def test_transposed_conv_is_gradient_of_conv(shape):
    nd = len(shape) - 2
    u = jax.random.normal(jax.random.key(0), shape)
    module = layers.ConvTranspose(4, (4,) * nd, strides=2)
    v, y = _init_apply(module, u)
    kernel, bias = v["params"]["kernel"], v["params"]["bias"]
    assert kernel.shape == (*(4,) * nd, 4, 3)
    assert y.shape == (2, *(2 * s for s in shape[1:-1]), 4)

    def forward(x):  # the matching conv: [B, 2S, 4] -> [B, S, 3]
        return lax.conv_general_dilated(
            x,
            kernel,
            (2,) * nd,
            "SAME",
            dimension_numbers=lax.conv_dimension_numbers(
                x.shape,
                kernel.shape,
                ("NHWC", "HWIO", "NHWC") if nd == 2 else ("NHC", "HIO", "NHC"),
            ),
        )

    x0 = jnp.zeros(y.shape)
    out, vjp = jax.vjp(forward, x0)
    assert out.shape == u.shape
    (ref,) = vjp(u)
    np.testing.assert_allclose(y, np.asarray(ref) + np.asarray(bias), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", layers.CONV_TYPES)
def test_strided_output_size_is_ceil(kind):
    for size in (1, 7, 28):
        x = jnp.ones((1, size, size + 3, 2))
        y = jax.eval_shape(_Conv(3, (4, 4), kind, strides=2).init_with_output, jax.random.key(0), x)
        assert y[0].shape == (1, -(-size // 2), -(-(size + 3) // 2), 3)


@pytest.mark.parametrize("how", layers.UPSAMPLES)
def test_upsample_doubles_every_axis(how):
    class Up(nn.Module):
        kind: str

        @nn.compact
        def __call__(self, h):
            return layers.upsample(h, 5, how=how, kind=self.kind, dilation=2)

    for kind in layers.CONV_TYPES:
        for shape in [(1, 3, 5, 2), (1, 7, 2)]:
            y = jax.eval_shape(Up(kind).init_with_output, jax.random.key(0), jnp.ones(shape))[0]
            assert y.shape == (1, *(2 * s for s in shape[1:-1]), 5)


def test_batch_norm_batch_statistics_in_training_running_averages_at_eval():
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.standard_normal((16, 4, 5, 3))).astype(np.float32)
    norm = layers.Norm("batch")
    variables = norm.init(jax.random.key(0), x, train=False)
    scale = np.array([0.5, 1.0, 2.0], np.float32)
    bias = np.array([0.1, -0.2, 0.3], np.float32)
    params = {"BatchNorm_0": {"scale": scale, "bias": bias}}
    stats = variables["batch_stats"]
    y, updated = norm.apply(
        {"params": params, "batch_stats": stats}, x, train=True, mutable=["batch_stats"]
    )
    mean = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))  # biased, as in Ioffe & Szegedy's normalisation step
    eps = 1e-5  # flax's BatchNorm default epsilon
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + eps) * scale + bias, atol=1e-4)
    m = layers.BATCH_NORM_MOMENTUM
    new = jax.tree_util.tree_map(np.asarray, updated["batch_stats"]["BatchNorm_0"])
    np.testing.assert_allclose(new["mean"], m * 0.0 + (1 - m) * mean, rtol=1e-5)
    np.testing.assert_allclose(new["var"], m * 1.0 + (1 - m) * var, rtol=1e-5)
    # At eval: the running averages, whatever the batch.
    x2 = x[:3] * 10.0
    y2 = norm.apply({"params": params, **updated}, x2, train=False)
    ref = (x2 - new["mean"]) / np.sqrt(new["var"] + eps) * scale + bias
    np.testing.assert_allclose(y2, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["layer", "group"])
def test_layer_and_group_norm_match_numpy(kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 16)).astype(np.float32)
    y = layers.Norm(kind).init_with_output(jax.random.key(0), x, train=True)[0]
    if kind == "layer":  # each position over its channels
        g, axes = x, (-1,)
    else:  # gcd(8, 16) = 8 groups of 2 channels, each normalised over space and the group
        g, axes = x.reshape(2, 3, 4, 8, 2), (1, 2, 4)
    eps = 1e-6  # flax's LayerNorm / GroupNorm default epsilon
    ref = (g - g.mean(axes, keepdims=True)) / np.sqrt(g.var(axes, keepdims=True) + eps)
    np.testing.assert_allclose(y, ref.reshape(x.shape), atol=1e-3)


class _Drop(nn.Module):
    rate: float

    @nn.compact
    def __call__(self, x, train):
        return layers.dropout(x, self.rate, train=train)


def test_dropout_identity_at_eval_and_keyed_by_dropout_rng_in_training():
    x = jnp.asarray(np.random.default_rng(0).uniform(1.0, 2.0, (100, 100)), jnp.float32)
    drop = _Drop(0.3)
    np.testing.assert_array_equal(drop.apply({}, x, train=False), x)
    a = drop.apply({}, x, train=True, rngs={"dropout": jax.random.key(5)})
    b = drop.apply({}, x, train=True, rngs={"dropout": jax.random.key(5)})
    c = drop.apply({}, x, train=True, rngs={"dropout": jax.random.key(6)})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    kept = np.asarray(a) != 0
    np.testing.assert_allclose(np.asarray(a)[kept], np.asarray(x)[kept] / 0.7, rtol=1e-6)
    # 10,000 Bernoulli(0.3) drops: the fraction is within 5 standard deviations of 0.3.
    assert abs((~kept).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / kept.size)
    with pytest.raises(Exception, match="dropout"):
        drop.apply({}, x, train=True)  # no "dropout" rng: an error, never silent identity


def test_large_kernel_attention_gates_input_with_dw_dwdilated_pw():
    x = jax.random.normal(jax.random.key(0), (1, 9, 11, 4))
    v, y = _init_apply(layers.LargeKernelAttention(), x)
    p = v["params"]

    def dw(h, q, dilation):
        out = lax.conv_general_dilated(
            h,
            q["kernel"],
            (1, 1),
            "SAME",
            rhs_dilation=(dilation,) * 2,
            dimension_numbers=DN2,
            feature_group_count=4,
        )
        return np.asarray(out) + np.asarray(q["bias"])

    a = dw(dw(x, p["depthwise"], 1), p["depthwise_dilated"], layers.LKA_DILATION)
    a = np.einsum("bhwc,cd->bhwd", a, p["pointwise"]["kernel"][0, 0]) + np.asarray(
        p["pointwise"]["bias"]
    )
    assert p["depthwise"]["kernel"].shape == (5, 5, 1, 4)
    assert p["depthwise_dilated"]["kernel"].shape == (7, 7, 1, 4)
    np.testing.assert_allclose(y, np.asarray(x) * a, rtol=1e-4, atol=1e-4)


def test_receptive_field_formula():
    # Two 3x3 convs: 5; a stride-2 4x4 then a 3x3: 4 + 2 * 2 = 8; dilation 2 kernel 3 spans 5.
    assert layers.receptive_field([(3, 1), (3, 1)]) == 5
    assert layers.receptive_field([(4, 2), (3, 1)]) == 8
    assert layers.receptive_field([(5, 1)]) == 5
