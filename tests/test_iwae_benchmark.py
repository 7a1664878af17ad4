"""``scripts/iwae_benchmark.py`` and its PyTorch side: which runs they fit, and that the torch
estimator computes aejax's log weights from the same draws (skipped without torch)."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, tiny_config

from aejax import build
from aejax.evaluation import likelihood as lk
from aejax.train.rng import example_keys


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _load(REPO / "scripts" / "iwae_benchmark.py")


def test_torch_reference_fits_vae_mnist_only(script):
    vae_mnist = _load(REPO / "experiments" / "vae_mnist.py").get_config()
    assert script.torch_mismatch(vae_mnist) is None
    reason = script.torch_mismatch(tiny_config(**{"model.likelihood": "gaussian"}))
    assert "Bernoulli" in reason and "MLP" not in reason
    assert script._paired_ratios([1.0, 2.0], [3.0, 3.0]) == [3.0, 1.5]


def test_print_table_reads_the_report_schema(script, capsys):
    contestant = {
        "median_s": 20.0,
        "examples_per_s": 10.0,
        "full_test_set_s_extrapolated": 1000.0,
        "mean_iwae_nll_nats": 94.6,
    }
    report = {
        "iwae_k": 5000,
        "num_test": 200,
        "machine": {"cpu_model": "AMD EPYC", "num_cores": 2, "load_average_1m": 4.0},
        "load_average_1m_end": 5.0,
        "contestants": {"aejax": contestant, "torch_100000": contestant | {"median_s": 45.0}},
        "torch_best": "torch_100000",
        "aejax_over_torch": {"ratio_of_medians": 2.25, "paired_median": 2.2, "target": 2.0},
        "statistical_agreement": {"mean_nll_diff_nats": -0.08, "standard_error_nats": 0.07},
        "same_z_check": {"max_abs_diff_log_weights": 5e-5, "max_abs_diff_bound": 2e-5},
    }
    script.print_table(report)
    out = capsys.readouterr().out
    assert "2.25x (paired median 2.20x" in out and "16.7 m" in out and "4.00 -> 5.00" in out


def test_torch_log_weights_equal_aejax_on_the_same_draws():
    torch = pytest.importorskip("torch")
    torch_iwae = _load(REPO / "benchmarks" / "torch_iwae.py")
    c = tiny_config(**{"model.likelihood": "bernoulli"})
    shape = (4, 4, 1)
    model = build.build_model(c, shape)
    rng = np.random.RandomState(0)
    shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, *shape)))
    variables = jax.tree_util.tree_map(lambda a: 0.3 * rng.randn(*a.shape), shapes)
    variables = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), variables)
    x = (rng.rand(5, *shape) > 0.5).astype(np.float32)
    keys = example_keys(jax.random.key(1), jnp.arange(5))
    w = np.asarray(lk.iwae_log_weights(model, variables, jnp.asarray(x), keys, 9))

    @jax.jit
    def draws(x):
        encode, _, _ = lk.model_fns(model, variables)
        return lk.draw_posterior(encode(x), keys, jnp.arange(9))

    z = np.array(draws(jnp.asarray(x)))
    ref = torch_iwae.TorchIWAE(jax.tree_util.tree_map(np.asarray, variables["params"]))
    xt = torch.from_numpy(x.reshape(5, -1))
    with torch.no_grad():
        w_torch = ref.log_weights(xt, ref.posterior(xt), torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(w_torch, w, rtol=1e-5, atol=1e-4)
    log_px = ref.log_marginal(xt, 7, batch_size=2, max_samples_per_call=6)
    assert log_px.shape == (5,) and bool(torch.isfinite(log_px).all())
