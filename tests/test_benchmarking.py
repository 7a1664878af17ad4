"""Benchmark helpers: FLOP counts against hand counts, the matmul rate, memory, the test ELBO."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, tiny_config

from aejax import benchmarking as bm
from aejax import build
from aejax.train.run import init_state
from aejax.train.step import make_train_step

# A tiny MLP 6 -> 4 -> 3 -> 2; the first layer reads the data.
TINY = [
    bm.DenseLayer("l0", 6, 4, input_grad=False),
    bm.DenseLayer("l1", 4, 3),
    bm.DenseLayer("l2", 3, 2),
]
# By hand, per example: forward 2*(24 + 12 + 6) = 84, weight gradients 84, input gradients of
# the two later layers 2*(12 + 6) = 36.
TINY_HAND_COUNT = 84 + 84 + 36


def _tiny_mlp_loss(params, x):
    h = x
    for i, w in enumerate(params):
        h = h @ w
        if i < len(params) - 1:
            h = jax.nn.relu(h)
    return jnp.sum(h**2)


def test_dense_train_flops_matches_hand_count():
    assert bm.dense_train_flops(TINY) == TINY_HAND_COUNT


def test_jaxpr_count_of_a_gradient_matches_hand_count():
    params = [jnp.ones((la.fan_in, la.fan_out)) for la in TINY]
    x = jnp.ones((5, 6))
    jaxpr = jax.make_jaxpr(jax.value_and_grad(_tiny_mlp_loss))(params, x)
    assert bm.jaxpr_matmul_flops(jaxpr) == 5 * TINY_HAND_COUNT


def test_jaxpr_count_multiplies_scan_and_takes_costliest_cond_branch():
    a = jnp.ones((4, 8))
    b = jnp.ones((8, 3))

    def scanned(a, b):
        return jax.lax.scan(lambda c, _: (c + a @ b, None), jnp.zeros((4, 3)), None, length=7)[0]

    def branched(p, a, b):
        return jax.lax.cond(p, lambda: (a @ b).sum(), lambda: (a[:2] @ b).sum())

    one = 2 * 4 * 8 * 3
    assert bm.jaxpr_matmul_flops(jax.make_jaxpr(scanned)(a, b)) == 7 * one
    assert bm.jaxpr_matmul_flops(jax.make_jaxpr(branched)(True, a, b)) == one


@pytest.fixture(scope="module")
def tiny():
    """``(dataset, experiment, state)`` of the tiny config; the init is jitted (faster on CPU)."""
    config = tiny_config()
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    state = jax.jit(lambda k: init_state(exp, ds.info.shape, k))(jax.random.key(0))
    return ds, exp, state


def test_autoencoder_layers_agree_with_the_train_step_jaxpr(tiny, key):
    ds, exp, state = tiny
    layers = bm.autoencoder_dense_layers(state.params)
    names = {la.name: la for la in layers}
    assert not names["encoder/Dense_0"].input_grad
    assert names["encoder/Dense_0"].fan_in == int(np.prod(ds.info.shape))
    assert sum(not la.input_grad for la in layers) == 1
    batch = {"image": jnp.zeros((8, *ds.info.shape), jnp.float32)}
    step = make_train_step(exp.model, exp.objective, exp.tx)
    hp = build.hparams_as_arrays(exp.hparams)
    per_example = bm.step_flops_per_example(step, state, batch, key, hp, batch_size=8)
    assert per_example == bm.dense_train_flops(layers)


def test_vae_mnist_layer_count_is_the_nominal_figure():
    sizes = [(784, 500, False), (500, 40, True), (40, 40, True), (20, 500, True), (500, 784, True)]
    layers = [bm.DenseLayer(f"l{i}", i_, o, g) for i, (i_, o, g) in enumerate(sizes)]
    exact = bm.dense_train_flops(layers)
    assert exact == 4_109_600
    assert abs(exact / bm.NOMINAL_VAE_MNIST_FLOPS_PER_IMAGE - 1) < 0.01


def test_matmul_rate_is_positive_on_a_tiny_size():
    assert bm.matmul_gflops(32, reps=2) > 0


def test_paired_fractions_divide_each_epochs_rate_by_the_matmul_rate_after_it():
    times = np.array([2.0, 2.5, 1.9])
    rates = np.array([200.0, 180.0, 210.0])
    flops = 4.1e6 * 59_904
    expected = flops / times / 1e9 / rates
    np.testing.assert_allclose(bm.paired_fractions(flops, list(times), list(rates)), expected)
    with pytest.raises(ValueError):
        bm.paired_fractions(flops, [2.0], [200.0, 180.0])


def test_matmul_reps_fill_the_requested_time():
    # A 2048^2 product is 17.2 GFLOP: at 200 GFLOP/s one takes 86 ms, so 0.5 s is 6 of them.
    assert bm.matmul_reps_for(0.5, 200.0, 2048) == 6
    assert bm.matmul_reps_for(0.5, 10.0, 2048) == 2  # 1.7 s a product: still two samples
    assert bm.matmul_reps_for(60.0, 200.0, 2048, max_reps=50) == 50


def test_machine_info_and_memory():
    info = bm.machine_info()
    assert info["num_cores"] >= 1 and info["jax_backend"] == jax.default_backend()
    mem = bm.peak_memory()
    assert mem["host_rss_peak_bytes"] > 0
    assert bm.summarize_times([3.0, 1.0, 2.0])["median"] == 2.0


def test_split_negative_elbo_is_deterministic_and_independent_of_batch_size(tiny, key):
    ds, exp, state = tiny
    params = state.params
    images = (ds.images[:20] > 0.5).astype(np.float32)
    a = bm.split_negative_elbo(exp.model, params, images, key, batch_size=20)
    b = bm.split_negative_elbo(exp.model, params, images, key, batch_size=7)
    assert np.isfinite(a) and a > 0
    np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.fixture(scope="module")
def script():
    """``scripts/benchmark.py`` as a module."""
    spec = importlib.util.spec_from_file_location("benchmark", REPO / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_torch_reference_runs_only_for_the_architecture_it_implements(script):
    assert script.torch_mismatch(script.load_config(script.DEFAULT_CONFIG)) is None
    reason = script.torch_mismatch(tiny_config())  # binarize="none"
    assert "dynamic binarisation" in reason and "MLP" not in reason


def test_format_table_reads_the_report_schema(script):
    args = script.parse_args(["--out", "x.json", "--epochs", "2", "--no-torch"])
    assert args.epochs == 2 and args.no_torch
    report = {
        "machine": bm.machine_info(),
        "load_average_1m": {"start": 1.0, "end": None},
        "epochs": 2,
        "steps_per_epoch": 468,
        "batch_size": 128,
        "compile_time_s": 1.0,
        "seconds_per_epoch": 2.0,
        "examples_per_s": 29952.0,
        "peak_memory": {
            "host_rss_peak_bytes": 2**30,
            "host_rss_peak_bytes_before_torch": 2**29,
            "device_peak_bytes": None,
        },
        "test_negative_elbo": 104.0,
        "matmul_gflops": 200.0,
        "matmul_size": 2048,
        "flops_per_image": {"nominal": 4.1e6, "jaxpr": 4_109_600},
        "step_gflops": 122.8,
        "step_gflops_exact": 123.1,
        "fraction_of_matmul_rate": 0.614,
        "torch": None,
        "torch_skipped": "--no-torch",
    }
    table = script.format_table(report)
    assert "61.4%" in table and "skipped: --no-torch" in table
    report["fraction_of_matmul_rate_paired_median"] = 0.637
    assert "paired median 63.7%" in script.format_table(report)
