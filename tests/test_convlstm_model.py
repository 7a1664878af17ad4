"""The ConvLSTM sequence autoencoder as a config: build, likelihood, training, evaluation."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config
from scipy.optimize import minimize_scalar
from sklearn.metrics import log_loss

from aejax import build
from aejax.errors import ConfigError
from aejax.evaluation import sequence

T, CONTEXT, RES = 4, 2, 16


def seq_config(**overrides):
    c = tiny_config(**overrides)
    c.data.name = "moving_sprites"
    s = c.data.moving_sprites
    s.resolution, s.num_frames, s.num_sprites, s.num_train, s.num_test = RES, T, 1, 32, 8
    c.model.encoder.kind = c.model.decoder.kind = "convlstm"
    c.model.encoder.channels, c.model.decoder.channels = (4,), (4,)
    c.model.convlstm.update(dict(features=4, kernel_size=3, context_frames=CONTEXT))
    c.train.batch_size, c.train.num_steps, c.train.steps_per_call = 8, 6, 3
    c.train.log_every = c.train.checkpoint_every = 3
    for k, v in overrides.items():  # tiny_config already set them; re-apply over the above
        target = c
        *parents, leaf = k.split(".")
        for p in parents:
            target = target[p]
        target[leaf] = v
    return c


@pytest.fixture(scope="module")
def vae():
    c = seq_config()
    ds = build.load_data(c, "train")
    exp = build.build_experiment(c, ds.info.shape, len(ds))
    x = jnp.asarray(ds.images[:3])
    variables = jax.jit(exp.model.init)(jax.random.key(0), x)
    return exp.model, variables, x


def test_decoder_shapes_and_sequence_likelihood_is_framewise_bce(vae):
    model, variables, x = vae
    assert x.shape == (3, T, RES, RES, 1)

    def run(m, x):
        q = m.encode(x)
        return q.mean(), m.decode(q.mean())

    z, p = jax.jit(lambda x: model.apply(variables, x, method=run))(x)
    assert z.shape == (3, 4) and p.logits.shape == (3, T, RES, RES, 1)
    log_p = np.asarray(p.log_prob(x))
    assert log_p.shape == (3,)
    probs = np.asarray(jax.nn.sigmoid(p.logits), np.float64)
    for i in range(3):  # the sequence log-likelihood is minus the BCE summed over every pixel
        bce = log_loss(
            np.asarray(x[i]).ravel(), probs[i].ravel(), normalize=False, labels=[0.0, 1.0]
        )
        np.testing.assert_allclose(-log_p[i], bce, rtol=1e-4)


def test_encoder_reads_only_the_context_frames(vae):
    model, variables, x = vae
    encode = jax.jit(lambda x: model.apply(variables, x, method=lambda m, x: m.encode(x).mean()))
    changed = x.at[:, CONTEXT:].set(1.0 - x[:, CONTEXT:])
    np.testing.assert_array_equal(encode(x), encode(changed))
    assert np.abs(encode(x) - encode(x.at[:, 0].set(1.0 - x[:, 0]))).max() > 0


def test_config_errors_name_the_key():
    c = seq_config()
    ds = build.load_data(c, "train")
    bad = seq_config(**{"model.convlstm.context_frames": T + 1})
    with pytest.raises(ConfigError, match="model.convlstm.context_frames=5 must lie in"):
        build.build_model(bad, ds.info.shape)
    with pytest.raises(ConfigError, match="model.encoder.kind and model.decoder.kind both"):
        build.build_model(seq_config(**{"model.encoder.kind": "mlp"}), ds.info.shape)
    with pytest.raises(ConfigError, match="ConvLSTM networks need sequences"):
        build.build_model(seq_config(), (RES, RES, 1))


def test_copy_last_eps_minimises_its_bce_and_errors_match_sklearn():
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(5, 4, 6, 6, 1)) < 0.3).astype(np.float32)
    frames, probs, eps = sequence.copy_last(images, 2)
    future = images[:, 2:]

    def bce(e):
        p = e + (1 - 2 * e) * frames
        return sequence.frame_errors(p, future)["bce"].sum()

    best = minimize_scalar(bce, bounds=(1e-4, 0.5), method="bounded", options={"xatol": 1e-7})
    np.testing.assert_allclose(eps, best.x, rtol=1e-3)
    errors = sequence.frame_errors(probs, future)
    for t in range(2):
        want = log_loss(
            future[:, t].ravel(), probs[:, t].ravel(), normalize=False, labels=[0.0, 1.0]
        )
        np.testing.assert_allclose(errors["bce"][t], want / 5, rtol=1e-6)
        mse = ((probs[:, t] - future[:, t]) ** 2).reshape(5, -1).sum(1).mean()
        np.testing.assert_allclose(errors["mse"][t], mse, rtol=1e-6)


def test_the_kind_of_a_config_follows_its_data():
    assert build.experiment_kind(seq_config()) == "sequences"
    assert build.experiment_kind(seq_config(**{"data.moving_sprites.frames": True})) == "images"
    assert build.experiment_kind(tiny_config()) == "images"


def test_a_sequence_run_trains_and_evaluates_through_its_kind(tmp_path, capsys):
    """What scripts/train.py and evaluate.py do, without asking what the run is: the sequences
    kind trains without periodic evaluation (with a note) and its evaluator writes per-frame
    errors, equal to :func:`sequence.evaluate` on the restored model."""
    from aejax import kinds
    from aejax.evaluation.workdir import EvalRequest
    from aejax.train.restore import load_trained

    c = seq_config(
        **{"train.num_steps": 3, "train.steps_per_call": 3, "evals.periodic": "likelihood"}
    )
    summary = kinds.train(c, tmp_path / "seq")
    assert summary["step"] == 3 and summary["evaluations"] == 0
    assert np.isfinite(summary["final_train_metrics"]["neg_elbo"])
    assert "evals.periodic is not run for sequences" in capsys.readouterr().err
    lines = kinds.evaluate(tmp_path / "seq", EvalRequest(given={"batch_size": 4}))
    assert lines[-1].endswith("sequence_strip.png")
    result = json.loads((tmp_path / "seq" / "eval.json").read_text())
    run = load_trained(tmp_path / "seq")
    test = build.load_data(seq_config(), "test")
    metrics, _ = sequence.evaluate(
        run.experiment.model, run.variables, test.images, CONTEXT, batch_size=4
    )
    assert result["step"] == 3 and result["context_frames"] == CONTEXT
    assert result["dataset"] == "moving_sprites"
    np.testing.assert_allclose(result["test_convlstm_pred_mse"], metrics["convlstm_pred_mse"])


def test_evaluate_with_both_baselines(vae, tmp_path):
    """Per-frame errors of the model and both baselines (the frame-wise one untrained: this
    checks what each predicts, not how well)."""
    model, variables, _ = vae
    test = build.load_data(seq_config(), "test")
    f = seq_config(**{"data.moving_sprites.frames": True, "model.posterior": "delta"})
    f.model.encoder.kind = f.model.decoder.kind = "mlp"
    frame_model = build.build_model(f, (RES, RES, 1))
    frame_vars = jax.jit(frame_model.init)(jax.random.key(1), jnp.zeros((1, RES, RES, 1)))
    metrics, preds = sequence.evaluate(
        model,
        variables,
        test.images,
        CONTEXT,
        batch_size=4,
        baseline=(frame_model, frame_vars),
    )
    for name in ("convlstm", "framewise"):
        assert preds[name].shape == test.images.shape
        assert len(metrics["per_frame"][name]["mse"]) == T
        assert np.isfinite([metrics[f"{name}_{k}"] for k in ("recon_mse", "pred_bce")]).all()
    # The frame-wise baseline repeats its last reconstruction; copy_last repeats the last frame.
    np.testing.assert_array_equal(preds["framewise"][:, CONTEXT], preds["framewise"][:, -1])
    np.testing.assert_array_equal(preds["copy_last"][:, -1], test.images[:, CONTEXT - 1])
    np.testing.assert_allclose(
        metrics["per_frame"]["convlstm"]["mse"],
        ((preds["convlstm"] - test.images) ** 2).sum((2, 3, 4)).mean(0),
        rtol=1e-5,
    )
    png = sequence.strip(test.images, preds, tmp_path / "strip.png", CONTEXT, num=2)
    assert os.path.getsize(png) > 0
