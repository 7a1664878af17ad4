"""Encoders and decoders from config: shapes, causality, receptive fields, train/eval modes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax import nn as ann
from aejax.errors import ConfigError


def _support(grad: np.ndarray, axis: int) -> int:
    """Span (first to last position, inclusive) along ``axis`` where the gradient is non-zero.

    A span, not a count: a stride-2 conv with dilation 2 reads every other pixel of its span.
    """
    other = tuple(a for a in range(grad.ndim) if a != axis)
    hit = np.flatnonzero(np.abs(grad).sum(axis=other) > 0)
    return int(hit[-1] - hit[0] + 1)


def test_causal_stack_output_depends_on_no_later_input():
    t, stack = 64, ann.CausalStack((4, 6), blocks=3, activation="tanh")
    x = jax.random.normal(jax.random.key(0), (1, t, 1))
    variables = stack.init(jax.random.key(1), x)
    assert stack.apply(variables, x).shape == (1, t // 4, 6)
    # jac[i, s]: how output step i (summed over channels) moves with input step s.
    jac = jax.jit(jax.jacrev(lambda x: stack.apply(variables, x)[0].sum(-1)))(x)
    jac = np.asarray(jac)[:, 0, :, 0]
    for i in range(t // 4):
        # Two stride-2 stages: output step i ends at input step 4 i and reads nothing later.
        assert np.all(jac[i, 4 * i + 1 :] == 0), f"output {i} depends on later inputs"
        assert jac[i, 4 * i] != 0
    # The last output sees exactly the receptive field: 4, + 2 (1 + 2 + 4) for the dilated
    # blocks at stride 2, + 3 * 2 for the second stride-2 conv, + 4 (1 + 2 + 4) at stride 4.
    assert np.count_nonzero(jac[-1]) == stack.receptive_field() == 4 + 14 + 6 + 28


@pytest.mark.parametrize("conv", ["standard", "separable"])
def test_wavenet_block_is_causal_with_dilated_taps(conv):
    block = ann.conv1d.WaveNetBlock(dilation=4, kind=conv)
    x = jax.random.normal(jax.random.key(0), (1, 20, 3))
    variables = block.init(jax.random.key(1), x)
    g = np.asarray(jax.jit(jax.grad(lambda x: block.apply(variables, x)[0, 12].sum()))(x))[0]
    nonzero = np.flatnonzero(np.abs(g).sum(-1))
    np.testing.assert_array_equal(nonzero, [8, 12])  # taps t - dilation and t, nothing later


@pytest.mark.parametrize(
    "options",
    [
        dict(conv="standard"),
        dict(conv="separable", blocks=1),
        dict(conv="dilated", blocks=1),
        dict(conv="standard", blocks=1, block="van"),
    ],
)
def test_conv_encoder_receptive_field_matches_gradient_support(options):
    enc = ann.ConvEncoder((4,), 0, 2, activation="tanh", **options)
    x = jax.random.normal(jax.random.key(0), (1, 64, 64, 1))
    variables = enc.init(jax.random.key(1), x)

    def last_map_centre(x):  # one unit of the last conv feature map, before the dense layer
        _, state = enc.apply(variables, x, capture_intermediates=True, mutable=["intermediates"])
        inter = state["intermediates"]
        # One stage: the block's output, or without blocks the (identity) norm after the conv.
        if not options.get("blocks"):
            name = "Norm_0"
        elif options.get("block") == "van":
            name = "LargeKernelAttentionBlock_0"
        else:
            name = "ResidualBlock_0"
        return inter[name]["__call__"][0][0, 16, 16].sum()

    g = np.asarray(jax.jit(jax.grad(last_map_centre))(x))
    assert _support(g, 1) == _support(g, 2) == enc.receptive_field()


@pytest.mark.parametrize("kind", ["conv", "wavenet"])
@pytest.mark.parametrize("shape", [(13, 7, 2), (28, 28, 1), (9, 1, 1)])
def test_networks_from_config_give_exact_shapes_for_odd_sizes(kind, shape):
    c = tiny_config()
    for net in ("encoder", "decoder"):
        c.model[net].kind = kind
        c.model[net].channels = (4, 4)
        c.model[net].dense = 8
        c.model[net].blocks = 1
    model = build.build_model(c, shape)
    x = jnp.zeros((2, *shape))
    (posterior, likelihood), _ = jax.eval_shape(model.init_with_output, jax.random.key(0), x)
    assert posterior.loc.shape == (2, 4)
    assert likelihood.logits.shape == (2, *shape)


def test_dropout_network_equals_plain_network_at_eval():
    x = jax.random.uniform(jax.random.key(0), (3, 4, 4, 1))
    plain, dropped = ann.MLPEncoder((16, 16), 5), ann.MLPEncoder((16, 16), 5, dropout=0.5)
    variables = plain.init(jax.random.key(1), x)  # same parameter names with and without dropout
    np.testing.assert_array_equal(plain.apply(variables, x), dropped.apply(variables, x))
    train = dropped.apply(variables, x, train=True, rngs={"dropout": jax.random.key(2)})
    assert not np.allclose(train, plain.apply(variables, x))


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("conv", "sparse", "model.encoder.conv='sparse' is not valid"),
        ("norm", "instance", "model.encoder.norm='instance' is not valid"),
        ("block", "dense", "model.encoder.block='dense' is not valid"),
        ("dropout", 1.0, r"model.encoder.dropout must be a rate in \[0, 1\)"),
        ("dilation", 0, "model.encoder.dilation must be > 0"),
        ("blocks", -1, "model.encoder.blocks must be >= 0"),
    ],
)
def test_bad_network_options_name_the_key(key, value, match):
    c = tiny_config(**{"model.encoder.kind": "conv", f"model.encoder.{key}": value})
    with pytest.raises(ConfigError, match=match):
        build.build_model(c, (16, 16, 1))


def test_batch_norm_state_trains_and_eval_uses_running_averages():
    from aejax.train.epochs import make_batch_fn
    from aejax.train.run import device_data, init_state
    from aejax.train.step import make_train_step

    c = tiny_config(**{"model.encoder.norm": "batch", "model.decoder.norm": "batch"})
    c.model.encoder.dropout = c.model.decoder.dropout = 0.2
    train = build.load_data(c, "train")
    exp = build.build_experiment(c, train.info.shape, len(train))
    state = init_state(exp, train.info.shape, jax.random.key(0))
    stats0 = state.model_state["batch_stats"]
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx))
    batch = make_batch_fn(len(train), 32, "none", jax.random.key(1), jax.random.key(2))(
        device_data(train), jnp.int32(0)
    )
    hparams = build.hparams_as_arrays(exp.hparams)
    new, metrics = step(state, batch, jax.random.key(3), hparams)
    assert bool(metrics["finite"])
    # The encoder's first hidden layer: running mean moved by (1 - momentum) x the batch mean.
    bn0 = new.model_state["batch_stats"]["encoder"]["Norm_0"]["BatchNorm_0"]
    h = batch["image"].reshape(32, -1) @ state.params["encoder"]["Dense_0"]["kernel"]
    h = np.asarray(h) + np.asarray(state.params["encoder"]["Dense_0"]["bias"])
    m = ann.layers.BATCH_NORM_MOMENTUM
    np.testing.assert_allclose(bn0["mean"], (1 - m) * h.mean(0), rtol=1e-4, atol=1e-5)
    assert not np.allclose(bn0["mean"], stats0["encoder"]["Norm_0"]["BatchNorm_0"]["mean"])
    # Eval: deterministic (running averages, no dropout), and per-example (batch-independent).
    variables = {"params": new.params, **new.model_state}
    x = batch["image"]
    whole = exp.model.apply(variables, x, method=lambda m, x: m.encode(x).mean())
    alone = exp.model.apply(variables, x[:1], method=lambda m, x: m.encode(x).mean())
    np.testing.assert_allclose(whole[:1], alone, rtol=1e-5, atol=1e-6)
