"""The train step and loop: one compile, determinism, resume, non-finite handling."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.errors import ConfigError, NonFiniteError
from aejax.train.checkpoint import Checkpointer
from aejax.train.loop import train
from aejax.train.rng import named_keys
from aejax.train.run import init_state
from aejax.train.state import params_sha256
from aejax.train.step import make_train_step


def _experiment(config):
    ds = build.load_data(config, "train")
    return ds, build.build_experiment(config, ds.info.shape, len(ds))


def test_step_decreases_loss_and_reduces_per_example_terms(key):
    config = tiny_config()
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx))
    batch = {"image": jnp.asarray(ds.images[:32]), "label": jnp.asarray(ds.labels[:32])}
    hp = build.hparams_as_arrays(exp.hparams)
    first = None
    for _ in range(30):
        state, m = step(state, batch, named_keys(0)["train"], hp)
        first = float(m["loss"]) if first is None else first
    assert int(state.step) == 30
    assert float(m["loss"]) < first
    np.testing.assert_allclose(m["neg_elbo"], m["recon"] + m["kl"], rtol=1e-5)


def test_nonfinite_batch_leaves_state_unchanged(key):
    config = tiny_config()
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx))
    images = jnp.asarray(ds.images[:32]).at[0, 0, 0, 0].set(jnp.nan)
    new, m = step(
        state, {"image": images}, named_keys(0)["train"], build.hparams_as_arrays(exp.hparams)
    )
    assert not bool(m["finite"])
    assert int(new.step) == 1
    assert params_sha256(new.params) == params_sha256(state.params)


def test_unguarded_step_reports_a_nonfinite_batch_and_applies_its_update(key):
    """keep_state_on_nonfinite=False (train.on_nonfinite=stop): no select over the state; the
    caller learns of the bad step from ``finite`` and must discard what the step returned."""
    config = tiny_config()
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx, keep_state_on_nonfinite=False))
    hp = build.hparams_as_arrays(exp.hparams)
    images = jnp.asarray(ds.images[:32]).at[0, 0, 0, 0].set(jnp.nan)
    new, m = step(state, {"image": images}, named_keys(0)["train"], hp)
    assert not bool(m["finite"])
    assert not np.isfinite(float(m["loss"]))
    leaves = jax.tree_util.tree_leaves(new.params)
    assert not all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves)
    # On finite data both variants give the same bits.
    clean = {"image": jnp.asarray(ds.images[:32])}
    guarded = jax.jit(make_train_step(exp.model, exp.objective, exp.tx))
    a, _ = step(state, clean, named_keys(0)["train"], hp)
    b, _ = guarded(state, clean, named_keys(0)["train"], hp)
    assert params_sha256(a.params) == params_sha256(b.params)


def test_beta_is_an_array_so_changing_it_does_not_recompile(key):
    config = tiny_config()
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx))
    batch = {"image": jnp.asarray(ds.images[:32])}
    for beta in (0.5, 1.0, 4.0):
        hp = build.hparams_as_arrays({**exp.hparams, "beta": beta})
        step(state, batch, named_keys(0)["train"], hp)
    assert step._cache_size() == 1


def test_step_vmaps_over_hparams(key):
    config = tiny_config()
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    step = make_train_step(exp.model, exp.objective, exp.tx)
    batch = {"image": jnp.asarray(ds.images[:32])}
    betas = jnp.array([0.0, 1.0, 8.0])
    hp = {"learning_rate": jnp.full(3, 1e-3), "beta": betas}
    states = jax.tree_util.tree_map(lambda x: jnp.stack([x] * 3), state)
    _, m = jax.jit(jax.vmap(step, in_axes=(0, None, None, 0)))(
        states, batch, named_keys(0)["train"], hp
    )
    # Same key and params: the loss differs only through beta * KL.
    np.testing.assert_allclose(m["loss"], m["recon"] + betas * m["kl"], rtol=1e-5)
    alone, m1 = jax.jit(step)(
        state,
        batch,
        named_keys(0)["train"],
        {"learning_rate": jnp.float32(1e-3), "beta": jnp.float32(8.0)},
    )
    np.testing.assert_allclose(m["loss"][2], m1["loss"], rtol=1e-5)


def test_one_compile_per_run_and_files_written(tmp_path):
    summary = train(tiny_config(), tmp_path)
    # chunks of 8, 2, 8, 2, ... steps (log and checkpoint boundaries) share one program
    assert summary["train_compilations"] == 1
    assert summary["step"] == 40
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert all("loss" in r for r in rows)
    assert Checkpointer(tmp_path / "checkpoints").all_steps() == [20, 40]
    saved = json.loads((tmp_path / "summary.json").read_text())
    for k in ("step", "params_sha256", "wall_time_s", "examples_per_s"):
        assert k in saved
    assert json.loads((tmp_path / "config.json").read_text())["seed"] == 0
    assert list((tmp_path / "tb").iterdir())


def test_same_seed_same_params_other_seed_differs(tmp_path):
    a = train(tiny_config(), tmp_path / "a")["params_sha256"]
    b = train(tiny_config(), tmp_path / "b")["params_sha256"]
    c = train(tiny_config(seed=1), tmp_path / "c")["params_sha256"]
    assert a == b
    assert a != c


def test_resume_continues_the_same_stream(tmp_path):
    whole = train(tiny_config(), tmp_path / "whole")
    train(tiny_config(**{"train.num_steps": 20}), tmp_path / "parts")
    resumed = train(tiny_config(), tmp_path / "parts")
    assert resumed["resumed_from_step"] == 20
    assert resumed["params_sha256"] == whole["params_sha256"]
    steps = [
        json.loads(x)["step"] for x in (tmp_path / "parts/metrics.jsonl").read_text().splitlines()
    ]
    assert steps == [10, 20, 30, 40]
    # Totals add the two sessions; a rerun of the finished command trains nothing and keeps them.
    first = json.loads((tmp_path / "parts/summary.json").read_text())
    assert first == resumed
    assert resumed["steps_trained_total"] == 40 and resumed["steps_this_session"] == 20
    again = train(tiny_config(), tmp_path / "parts")
    assert again["steps_this_session"] == 0 and again["examples_per_s"] == 0.0
    assert again["steps_trained_total"] == 40
    assert again["training_time_s_total"] == resumed["training_time_s_total"]
    assert again["examples_per_s_total"] == resumed["examples_per_s_total"] > 0
    batch = tiny_config().train.batch_size
    np.testing.assert_allclose(
        again["examples_per_s_total"], 40 * batch / again["training_time_s_total"], rtol=1e-9
    )


def test_training_totals_ignore_a_summary_from_beyond_the_resumed_step(tmp_path):
    from aejax.train.workdir import training_totals as _training_totals

    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"step": 50, "steps_this_session": 50, "wall_time_s": 5.0}))
    # Resumed from step 30 (an older checkpoint): the summary at step 50 is not this history.
    assert _training_totals(path, 30, 10, 2.0) == {
        "steps_trained_total": 10,
        "training_time_s_total": 2.0,
    }
    # Resumed from step 50: its 50 steps in 5 s count, written before totals existed.
    assert _training_totals(path, 50, 10, 2.0) == {
        "steps_trained_total": 60,
        "training_time_s_total": 7.0,
    }


def test_unrolled_chunks_train_the_same_run(tmp_path):
    # scan_unroll only changes how XLA lays out the chunk's loop, not what it computes.
    from aejax.train.restore import load_trained

    rolled = train(tiny_config(), tmp_path / "rolled")
    unrolled = train(tiny_config(**{"train.scan_unroll": 4}), tmp_path / "unrolled")
    assert unrolled["train_compilations"] == 1 and unrolled["step"] == rolled["step"]
    a = load_trained(tmp_path / "rolled").variables["params"]
    b = load_trained(tmp_path / "unrolled").variables["params"]
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)


def test_dynamic_binarisation_and_epochs(tmp_path):
    config = tiny_config(
        **{"data.binarize": "dynamic", "train.num_steps": 0, "train.num_epochs": 2}
    )
    summary = train(config, tmp_path)
    assert summary["step"] == 2 * (512 // 32)


def test_nonfinite_loss_stops_with_step_and_quantity(tmp_path):
    config = tiny_config(
        **{"optimizer.name": "sgd", "optimizer.learning_rate": 1e12, "train.checkpoint_every": 1}
    )
    with pytest.raises(NonFiniteError, match=r"non-finite .* at step \d+"):
        train(config, tmp_path)
    ckpt = Checkpointer(tmp_path / "checkpoints")
    _, exp = _experiment(config)
    template = init_state(exp, (16, 16, 1), named_keys(0)["init"])
    for s in ckpt.all_steps():
        leaves = jax.tree_util.tree_leaves(ckpt.restore(s, template))
        assert all(np.isfinite(np.asarray(x)).all() for x in leaves)
    ckpt.close()


def test_changed_config_in_existing_workdir_is_refused(tmp_path):
    train(tiny_config(), tmp_path)
    with pytest.raises(ConfigError, match="model.latent_dim"):
        train(tiny_config(**{"model.latent_dim": 3}), tmp_path)


def test_stages_schedule_is_burdas_learning_rate_by_epoch():
    """``optimizer.schedule='stages'`` with Burda et al.'s settings: 10**(-i/7) of the rate in
    stage i, which lasts 3**i epochs (hand-computed boundaries: epochs 1, 4, 13, 40, ...)."""

    c = tiny_config()
    c.optimizer.schedule = "stages"
    steps_per_epoch, num_epochs = 5, 3280
    schedule = build.build_schedule(c, num_epochs * steps_per_epoch, steps_per_epoch)
    starts = np.cumsum([0] + [3**i for i in range(8)])  # epoch where stage i starts
    for i in range(8):
        for epoch in (starts[i], starts[i + 1] - 1):
            want = 10 ** (-i / 7)
            np.testing.assert_allclose(schedule(epoch * steps_per_epoch), want, rtol=1e-5)
    assert starts[-1] == num_epochs
    c.optimizer.stage_decay = 0.0
    with pytest.raises(ConfigError, match="optimizer.stage_decay"):
        build.build_schedule(c, 100, steps_per_epoch)
    c.optimizer.stage_decay, c.optimizer.warmup_steps = 0.5, 10  # a warm-up it would ignore
    with pytest.raises(ConfigError, match="optimizer.warmup_steps=10 has no effect"):
        build.build_schedule(c, 100, steps_per_epoch)
