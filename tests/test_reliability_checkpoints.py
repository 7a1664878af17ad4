"""Damaged checkpoints are refused with the step and the reason; resume falls back; retention.

A run with good checkpoints at steps 8 and 16 gets its newest checkpoint damaged in eight ways.
Asking for step 16 explicitly fails within 10 s naming the step and the reason; the automatic
choice falls back to step 8 with a warning that names step 16 and the reason.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess

import jax
import jax.numpy as jnp
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env, tiny_config

from aejax import build
from aejax.errors import CheckpointError, NonFiniteError
from aejax.train import manifest
from aejax.train.checkpoint import Checkpointer
from aejax.train.loop import train
from aejax.train.restore import load_trained
from aejax.train.rng import named_keys
from aejax.train.run import init_state
from aejax.train.workdir import RESUMABLE_CHANGES, describe_run

SETTINGS = {
    "train.num_steps": 16,
    "train.checkpoint_every": 8,
    "train.log_every": 8,
    "train.keep_checkpoints": 3,
}


def _save_foreign(directory, config, step=16):
    """A genuine checkpoint at ``step`` of another run (``config``), saved without training."""
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    state = init_state(exp, ds.info.shape, named_keys(config.seed)["init"])
    ckpt = Checkpointer(
        directory,
        run=describe_run(config, ds, exp.train.steps_per_epoch),
        ignore_config_keys=RESUMABLE_CHANGES,
        training=True,
    )
    ckpt.save(state.replace(step=jnp.int32(step)))
    ckpt.close()
    return directory / str(step)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    base = root / "base"
    summary = train(tiny_config(**SETTINGS), base)
    assert Checkpointer(base / "checkpoints").all_steps() == [8, 16]
    other_config = _save_foreign(root / "beta2", tiny_config(**SETTINGS, **{"elbo.beta": 2.0}))
    other_shapes = _save_foreign(
        root / "latent3", tiny_config(**SETTINGS, **{"model.latent_dim": 3})
    )
    return {"base": base, "summary": summary, "beta2": other_config, "latent3": other_shapes}


def _largest_array_file(step_dir):
    files = [p for p in (step_dir / "default").rglob("*") if p.is_file() and "/d/" in p.as_posix()]
    return max(files, key=lambda p: p.stat().st_size)


def _damage(mode: str, step_dir, runs) -> None:
    data = _largest_array_file(step_dir)
    if mode == "truncated_half":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif mode == "zero_bytes":
        data.write_bytes(b"")
    elif mode == "byte_flipped":
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        data.write_bytes(bytes(raw))
    elif mode == "metadata_deleted":
        (step_dir / "default" / "_METADATA").unlink()
    elif mode == "array_file_deleted":
        data.unlink()
    elif mode == "only_temporary_dir":
        step_dir.rename(step_dir.parent / f"{step_dir.name}.orbax-checkpoint-tmp")
    elif mode == "other_config":
        shutil.rmtree(step_dir)
        shutil.copytree(runs["beta2"], step_dir)
    elif mode == "other_shapes":
        # A latent_dim=3 checkpoint whose manifest was forged to claim this run's config and
        # layout (with checksums of its real files): only the stored arrays can tell.
        good = manifest.read(step_dir)
        shutil.rmtree(step_dir)
        shutil.copytree(runs["latent3"], step_dir)
        (step_dir / manifest.NAME).unlink()
        manifest.write(step_dir, {k: v for k, v in good.items() if k not in ("files", "format")})
    else:
        raise ValueError(mode)


DAMAGE = [
    ("truncated_half", "(truncated?)"),
    ("zero_bytes", "is 0 bytes"),
    ("byte_flipped", "different sha256"),
    ("metadata_deleted", "file default/_METADATA is missing"),
    ("array_file_deleted", "is missing"),
    ("only_temporary_dir", "only the temporary directory"),
    ("other_config", "different config (elbo.beta=2.0 there, 1.0 here"),
    ("other_shapes", "the model expects float32"),
]


@pytest.mark.parametrize("mode, reason", DAMAGE, ids=[m for m, _ in DAMAGE])
def test_damaged_newest_checkpoint_is_refused_and_resume_falls_back(
    runs, tmp_path, caplog, mode, reason
):
    workdir = tmp_path / "w"
    shutil.copytree(runs["base"], workdir)
    _damage(mode, workdir / "checkpoints" / "16", runs)
    kw = dict(image_shape=(16, 16, 1), num_train=512)

    with pytest.raises(CheckpointError) as info:
        load_trained(workdir, step=16, **kw)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("checkpoint at step 16 ") and "refused: " in message
    assert reason in message

    with caplog.at_level(logging.WARNING):
        run = load_trained(workdir, **kw)
    assert run.step == 8
    warned = [r.getMessage() for r in caplog.records if "step 16" in r.getMessage()]
    if mode == "only_temporary_dir":
        assert not warned  # an unfinished save is not a checkpoint: nothing to refuse
    else:
        assert warned and reason in warned[0]


def test_training_resume_skips_damaged_checkpoint_and_continues_bitwise(runs, tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(runs["base"], workdir)
    _damage("byte_flipped", workdir / "checkpoints" / "16", runs)
    (workdir / "checkpoints" / "24.orbax-checkpoint-tmp").mkdir()  # an interrupted save
    summary = train(tiny_config(**{**SETTINGS, "train.num_steps": 32}), workdir)
    assert summary["resumed_from_step"] == 8
    [refused] = summary["refused_checkpoints"]
    assert refused["step"] == 16 and "different sha256" in refused["reason"]
    assert (workdir / "checkpoints" / "refused" / "16").is_dir()
    # Retention keeps exactly the 3 newest complete checkpoints; temporary dirs never count.
    names = sorted(p.name for p in (workdir / "checkpoints").iterdir())
    assert names == ["16", "24", "32", "refused"]
    # Step 16 was redone from step 8 and gives the bits of the original, undamaged step 16.
    redone = manifest.read(workdir / "checkpoints" / "16")["state_sha256"]
    assert redone == manifest.read(runs["base"] / "checkpoints" / "16")["state_sha256"]


def test_retention_never_deletes_the_newest_complete_checkpoint(runs, tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(runs["base"] / "checkpoints", workdir)
    config = tiny_config(**SETTINGS)
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    template = init_state(exp, ds.info.shape, named_keys(0)["init"])
    ckpt = Checkpointer(workdir, keep=1, training=True)
    state = ckpt.restore(16, template)
    (workdir / "32.orbax-checkpoint-tmp").mkdir()  # newer but unfinished: does not count
    ckpt.save(state.replace(step=jnp.int32(24)))
    ckpt.wait()
    assert ckpt.all_steps() == [24]
    ckpt.close()


def test_every_checkpoint_refused_is_an_error_not_a_fresh_start(runs, tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(runs["base"], workdir)
    for step in (8, 16):
        _damage("byte_flipped", workdir / "checkpoints" / str(step), runs)
    with pytest.raises(CheckpointError, match=r"no usable checkpoint .*step 16.*step 8"):
        train(tiny_config(**SETTINGS), workdir)
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["16", "8"]


def test_nonfinite_state_is_never_saved(tmp_path):
    config = tiny_config()
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    state = init_state(exp, ds.info.shape, named_keys(0)["init"])
    bad = jax.tree_util.tree_map(lambda x: x, state)
    bad = bad.replace(
        step=jnp.int32(5), params=jax.tree_util.tree_map(lambda x: x.at[0].set(jnp.nan), bad.params)
    )
    ckpt = Checkpointer(tmp_path, training=True)
    with pytest.raises(NonFiniteError, match=r"state at step 5 holds NaN/Inf in params/"):
        ckpt.save(bad)
    ckpt.close()
    assert not any(tmp_path.iterdir())


def test_evaluate_step_on_damaged_checkpoint_exits_nonzero_with_the_reason(runs, tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(runs["base"], workdir)
    _damage("zero_bytes", workdir / "checkpoints" / "16", runs)
    proc = subprocess.run(
        [PYTHON, "scripts/evaluate.py", "--workdir", str(workdir), "--step", "16", "--iwae_k=0"],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "checkpoint at step 16" in lines[0] and "is 0 bytes" in lines[0]
    assert not (workdir / "eval.json").exists()
    assert json.loads((workdir / "summary.json").read_text())["step"] == 16
