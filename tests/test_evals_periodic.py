"""Periodic evaluation during training (``config.evals``): rows in metrics.jsonl and TensorBoard
that match an independent evaluation of the saved parameters, training bitwise unchanged by it,
the best checkpoint, and one-line config errors."""

from __future__ import annotations

import json
import struct

import jax
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build, kinds
from aejax.errors import ConfigError
from aejax.evaluation import likelihood, periodic
from aejax.train.logging import read_jsonl
from aejax.train.restore import load_trained
from aejax.train.rng import named_keys
from aejax.train.state import params_sha256

# 384 examples in batches of 32: 12 steps per epoch, so evaluations (12, 24, 32) fall between
# the chunk boundaries that logging (every 10) and checkpoints (every 16) make without them.
EVALS = {
    "data.shapes.num_train": 384,
    "train.num_steps": 32,
    "train.checkpoint_every": 16,
    "evals.periodic": "likelihood",
    "evals.iwae_k": 4,
    "evals.iwae_num_examples": 32,
    "evals.num_examples": 64,
}


def _tensorboard_scalars(workdir) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value)]}`` from the TFRecord event files tensorboardX wrote."""
    from tensorboardX.proto import event_pb2

    out: dict[str, list] = {}
    for path in sorted((workdir / "tb").glob("events.*")):
        data = path.read_bytes()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            pos += 12 + length + 4
            for v in event.summary.value:
                out.setdefault(v.tag, []).append((event.step, v.simple_value))
    return out


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("periodic")
    summary = kinds.train(
        tiny_config(**EVALS, **{"evals.keep_best": "test/neg_elbo_nats"}), workdir
    )
    return workdir, summary


def test_one_row_per_epoch_equal_to_an_independent_evaluation(evaluated_run):
    workdir, summary = evaluated_run
    rows = [r for r in read_jsonl(workdir / "metrics.jsonl") if "test/neg_elbo_nats" in r]
    assert [r["step"] for r in rows] == [12, 24, 32]  # every epoch and the last step
    assert "loss" in summary["final_train_metrics"]  # the eval row is not a training row
    assert summary["evaluations"] == 3

    run = load_trained(workdir, step=32)
    test = build.load_data(run.config, "test").take(64)
    eval_key = named_keys(run.experiment.seed)["eval"]
    x = likelihood.eval_inputs(
        test.images, run.experiment.binarize, jax.random.fold_in(eval_key, 1)
    )
    expected = likelihood.evaluate_split(
        run.experiment.model,
        run.variables,
        x,
        jax.random.fold_in(eval_key, 0),
        iwae_k=4,
        iwae_num_examples=32,
        batch_size=500,
        progress=False,
    )
    for name in ("neg_elbo_nats", "iwae_nll_nats", "kl_nats", "recon_nats"):
        np.testing.assert_allclose(rows[-1][f"test/{name}"], expected[name], rtol=1e-5, atol=1e-5)

    tb = _tensorboard_scalars(workdir)
    assert [s for s, _ in tb["test/neg_elbo_nats"]] == [12, 24, 32]
    np.testing.assert_allclose(
        tb["test/neg_elbo_nats"][-1][1], rows[-1]["test/neg_elbo_nats"], rtol=1e-5
    )
    assert "train/loss" in tb


def test_training_is_bitwise_the_same_and_the_best_state_is_kept(evaluated_run, tmp_path):
    workdir, with_eval = evaluated_run
    off = kinds.train(tiny_config(**{**EVALS, "evals.periodic": ""}), tmp_path / "off")
    assert off["evaluations"] == 0
    assert off["params_sha256"] == with_eval["params_sha256"]

    rows = [r for r in read_jsonl(workdir / "metrics.jsonl") if "test/neg_elbo_nats" in r]
    lowest = min(rows, key=lambda r: r["test/neg_elbo_nats"])
    best = json.loads((workdir / "best.json").read_text())
    assert best == {
        "metric": "test/neg_elbo_nats",
        "value": lowest["test/neg_elbo_nats"],
        "step": lowest["step"],
    }
    kept = load_trained(workdir, checkpoints="best")
    assert kept.step == best["step"]
    if best["step"] in (16, 32):  # also a regular checkpoint of the same run
        same = load_trained(workdir, step=best["step"])
        assert params_sha256(kept.state.params) == params_sha256(same.state.params)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"evals.periodic": "likelihood,nope"}, "unknown part 'nope'"),
        ({"evals.periodic": "images"}, "scripts/evaluate.py --suite=images"),
        ({"evals.split": "valid"}, "evals.split='valid'"),
        ({"evals.keep_best": "test/kl_nats"}, "evals.keep_best='test/kl_nats'"),
        ({"evals.periodic": "", "evals.keep_best": "test/neg_elbo_nats"}, "set evals.periodic"),
    ],
)
def test_config_errors_are_one_line(overrides, message):
    config = tiny_config(**{"evals.periodic": "likelihood", **overrides})
    with pytest.raises(ConfigError, match=message) as e:
        periodic.check(config)
    assert "\n" not in str(e.value)
