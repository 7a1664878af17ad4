"""The ConvLSTM cell and its scanned layer against a plain-convolution reference of eq. 3."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from aejax.nn.convlstm import ConvLSTM, ConvLSTMCell

B, T, SIZE, C_X, F, K = 2, 4, 6, 3, 5, 3


def _conv(x, w):
    """SAME, stride-1 NHWC convolution written with lax directly."""
    return lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"), precision="highest"
    )


@functools.partial(jax.jit, static_argnames="forget_bias")
def _reference(params, xs, c, h, forget_bias):
    """Shi et al. (2015) eq. 3 step by step: eight separate convolutions per step.

    The fused kernel ``[K, K, C_x + F, 4F]`` is split into its input-to-state (first ``C_x``
    input channels) and state-to-state parts, and into the gates ``i, f, c, o``.
    """
    w, b = params["conv"]["kernel"], params["conv"]["bias"]
    cx = xs.shape[-1]
    gate = {name: slice(j * F, (j + 1) * F) for j, name in enumerate("ifco")}

    def pre(name, x, h):
        s = gate[name]
        return _conv(x, w[:, :, :cx, s]) + _conv(h, w[:, :, cx:, s]) + b[s].reshape(1, 1, 1, -1)

    hs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        i = jax.nn.sigmoid(pre("i", x, h) + params["w_ci"][None] * c)
        f = jax.nn.sigmoid(pre("f", x, h) + params["w_cf"][None] * c + forget_bias)
        c = f * c + i * jnp.tanh(pre("c", x, h))
        o = jax.nn.sigmoid(pre("o", x, h) + params["w_co"][None] * c)
        h = o * jnp.tanh(c)
        hs.append(h)
    return (c, h), jnp.stack(hs, axis=1)


def _normal(rng, shape, std=1.0):
    return jnp.asarray(std * rng.standard_normal(shape), jnp.float32)


def _randomize(params, rng):
    """Replace every parameter (peepholes start at zero) by N(0, 0.3^2) draws."""
    return jax.tree_util.tree_map(lambda p: _normal(rng, p.shape, 0.3), params)


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    xs = _normal(rng, (B, T, SIZE, SIZE, C_X))
    carry = (_normal(rng, (B, SIZE, SIZE, F)), _normal(rng, (B, SIZE, SIZE, F)))
    layer = ConvLSTM(F, (K, K), forget_bias=0.7)
    params = _randomize(jax.jit(layer.init)(jax.random.key(1), xs, carry)["params"], rng)
    return layer, params, xs, carry


def test_scanned_layer_matches_stepwise_reference(setup):
    layer, params, xs, carry = setup
    with jax.default_matmul_precision("highest"):
        (c, h), hs = jax.jit(layer.apply)({"params": params}, xs, carry)
    (c_ref, h_ref), hs_ref = _reference(params["cell"], xs, *carry, forget_bias=0.7)
    assert hs.shape == (B, T, SIZE, SIZE, F)
    np.testing.assert_allclose(hs, hs_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, hs[:, -1], rtol=0, atol=0)


def test_cell_step_matches_reference_and_zero_input_channels():
    """One cell step; and a cell with no input (C_x = 0) is the state-to-state part alone."""
    rng = np.random.default_rng(2)
    carry = (_normal(rng, (B, SIZE, SIZE, F)), _normal(rng, (B, SIZE, SIZE, F)))
    for cx in (C_X, 0):
        x = jnp.ones((B, SIZE, SIZE, cx))
        cell = ConvLSTMCell(F, (K, K))
        params = _randomize(jax.jit(cell.init)(jax.random.key(3), carry, x)["params"], rng)
        with jax.default_matmul_precision("highest"):
            (c, h), out = jax.jit(cell.apply)({"params": params}, carry, x)
        (c_ref, h_ref), _ = _reference(params, x[:, None], *carry, forget_bias=1.0)
        np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out, h_ref, rtol=1e-5, atol=1e-5)


def test_zero_carry_default_and_causality(setup):
    """Without a carry the layer starts from zeros, and H_t does not depend on X_{t+1:}."""
    layer, params, xs, _ = setup
    zeros = ConvLSTMCell.zero_carry(B, (SIZE, SIZE), F)
    apply = jax.jit(lambda xs, carry=None: layer.apply({"params": params}, xs, carry)[1])
    hs = apply(xs)
    np.testing.assert_array_equal(hs, apply(xs, zeros))
    hs_changed = apply(xs.at[:, 2:].add(1.0))
    np.testing.assert_array_equal(hs[:, :2], hs_changed[:, :2])
    assert np.abs(hs[:, 2:] - hs_changed[:, 2:]).max() > 1e-3


def test_gradients_through_time_are_finite_and_match_finite_differences(setup):
    """d H_T / d X_1 flows back through T - 1 state updates; compare to a central difference."""
    layer, params, xs, carry = setup

    @jax.jit
    def last_output(first_frame):
        _, hs = layer.apply({"params": params}, xs.at[:, 0].set(first_frame), carry)
        return jnp.sum(hs[:, -1] ** 2)

    with jax.default_matmul_precision("highest"):
        g = jax.grad(last_output)(xs[:, 0])
        grads = jax.grad(lambda p: layer.apply({"params": p}, xs, carry)[1][:, -1].sum())(params)
        direction = _normal(np.random.default_rng(5), xs[:, 0].shape)
        eps = 1e-2
        fd = (last_output(xs[:, 0] + eps * direction) - last_output(xs[:, 0] - eps * direction)) / (
            2 * eps
        )
    assert all(np.isfinite(leaf).all() for leaf in jax.tree_util.tree_leaves(grads))
    assert np.isfinite(g).all() and np.abs(g).max() > 0
    np.testing.assert_allclose(float(jnp.vdot(g, direction)), float(fd), rtol=2e-2)
