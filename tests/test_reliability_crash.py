"""Crash and preemption: kill -9 at seeded points (one inside a checkpoint save) and SIGTERM.

Every restart is the same command; the final train state (parameters, optimizer state, step) and
the example ids each step read must be bitwise those of an uninterrupted run. The kills use
``AEJAX_DEBUG_KILL_AT`` (see :mod:`aejax.train.preemption`): the process SIGKILLs itself right
after a given step, or inside the save at a checkpoint step after the arrays are written and
before the checkpoint commits, which is the worst moment for an asynchronous save.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time

import jax
import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env, tiny_config

from aejax import build
from aejax.train.checkpoint import Checkpointer
from aejax.train.logging import read_jsonl
from aejax.train.loop import train
from aejax.train.rng import named_keys
from aejax.train.run import init_state

TINY = str(REPO / "tests" / "tiny_experiment.py")
SETTINGS = {
    "train.num_steps": 48,
    "train.checkpoint_every": 8,
    "train.log_every": 4,
    "train.steps_per_call": 4,
    "train.keep_checkpoints": 1,
    "train.log_example_ids": True,
}
FLAGS = [f"--config.{k}={v}" for k, v in SETTINGS.items()]


def _env(**extra) -> dict:
    """The scripts' environment (restarts reuse the session's compiled steps) plus ``extra``."""
    env = script_env()
    env.update(extra)
    return env


def _cmd(workdir, *extra):
    return [PYTHON, "scripts/train.py", "--config", TINY, "--workdir", str(workdir), *FLAGS, *extra]


def _final_leaves(workdir, config):
    """Every leaf of the newest checkpoint as numpy (restored and verified independently)."""
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    template = init_state(exp, ds.info.shape, named_keys(config.seed)["init"])
    ckpt = Checkpointer(workdir / "checkpoints")
    try:
        state = ckpt.restore(ckpt.latest_step(), template)
    finally:
        ckpt.close()
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(state)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the same config, in this process."""
    workdir = tmp_path_factory.mktemp("reference")
    config = tiny_config(**SETTINGS)
    summary = train(config, workdir)
    return workdir, summary, _final_leaves(workdir, config)


def _kill_points(seed: int = 20261128) -> list[tuple[int, str]]:
    """Five kill points from a seeded generator: four after a step, one inside a save."""
    rng = np.random.default_rng(seed)
    total, every = SETTINGS["train.num_steps"], SETTINGS["train.checkpoint_every"]
    while True:
        steps = rng.choice(np.arange(1, total), size=4, replace=False).tolist()
        save = int(rng.choice(np.arange(every, total, every)))
        if save not in steps:
            return sorted([(s, "step") for s in steps] + [(save, "save")])


def test_kill_9_five_times_then_resume_is_bitwise_equal(tmp_path, reference):
    ref_dir, ref_summary, ref_leaves = reference
    workdir = tmp_path / "run"
    for step, phase in _kill_points():
        point = f"{step}:save" if phase == "save" else str(step)
        proc = subprocess.run(
            _cmd(workdir),
            cwd=REPO,
            env=_env(AEJAX_DEBUG_KILL_AT=point),
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
        )
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr[-2000:])
        complete = Checkpointer(workdir / "checkpoints").all_steps()
        if phase == "save":
            # The interrupted asynchronous save left only its temporary directory, which is not a
            # checkpoint; with keep_checkpoints=1 the previous one is still there.
            assert (workdir / "checkpoints" / f"{step}.orbax-checkpoint-tmp").is_dir()
            previous = step - SETTINGS["train.checkpoint_every"]
            assert complete == ([previous] if previous > 0 else [])
        else:
            assert all(s <= step for s in complete) and len(complete) <= 1
    done = subprocess.run(
        _cmd(workdir), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["step"] == ref_summary["step"] == SETTINGS["train.num_steps"]
    assert summary["state_sha256"] == ref_summary["state_sha256"]
    leaves = _final_leaves(workdir, tiny_config(**SETTINGS))
    assert len(leaves) == len(ref_leaves)
    for a, b in zip(leaves, ref_leaves, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    # The examples every step read, in order, after five crashes: those of the uninterrupted run.
    seen = read_jsonl(workdir / "examples.jsonl")
    expected = read_jsonl(ref_dir / "examples.jsonl")
    assert [r["step"] for r in seen] == list(range(SETTINGS["train.num_steps"]))
    assert seen == expected
    # Retention: exactly the one newest complete checkpoint, no temporary directory left over.
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["48"]
    rows = read_jsonl(workdir / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(4, 49, 4))


def test_sigterm_saves_exits_0_and_restart_continues_from_that_step(tmp_path, reference):
    ref_dir, _, _ = reference
    workdir = tmp_path / "run"
    cmd = _cmd(workdir, "--config.train.num_steps=100000")
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = workdir / "metrics.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().strip()):
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.05)
    logged = SETTINGS["train.log_every"]  # the first metrics row: the run had reached it
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 0, err[-2000:]
    summary = json.loads((workdir / "summary.json").read_text())
    stopped, received = summary["step"], summary["signal_received_at_step"]
    assert summary["preempted"] and summary["stopped_by"] == "SIGTERM"
    # It stopped at the end of the chunk that was running when the signal arrived.
    steps_per_call = SETTINGS["train.steps_per_call"]
    assert logged <= received <= stopped <= received + steps_per_call < 100000
    assert f"stopped by SIGTERM at step {stopped}" in out
    assert "Traceback" not in err
    # The save committed before the exit: the checkpoint at that step passes verification.
    config = tiny_config(**SETTINGS)
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    ckpt = Checkpointer(workdir / "checkpoints")
    assert ckpt.latest_step() == stopped
    ckpt.verify(stopped, init_state(exp, ds.info.shape, named_keys(0)["init"]))
    ckpt.close()

    target = max(stopped + 4, SETTINGS["train.num_steps"])
    again = subprocess.run(
        [*cmd, f"--config.train.num_steps={target}"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = json.loads((workdir / "summary.json").read_text())
    assert resumed["resumed_from_step"] == stopped
    assert resumed["step"] == target
    seen = read_jsonl(workdir / "examples.jsonl")
    assert [r["step"] for r in seen] == list(range(target))
    # Same seed, same data order: the first 48 steps read what the uninterrupted run read.
    assert seen[:48] == read_jsonl(ref_dir / "examples.jsonl")


def test_disk_full_during_save_stops_with_one_line_and_keeps_the_last_checkpoint(
    tmp_path, reference
):
    ref_dir, _, _ = reference
    workdir = tmp_path / "run"
    shutil.copytree(ref_dir, workdir)  # complete up to step 48
    # `ulimit -f 16`: no file may grow past 16 KiB, so write() fails with EFBIG as it would with
    # ENOSPC on a full disk (Python ignores SIGXFSZ, so the process sees the error). The limit sits
    # below the size of one array (a 256x32 float32 kernel is 32 KiB), because how the checkpoint
    # spreads its arrays over data files depends on timing; the logs the run appends stay under it.
    cmd = " ".join(shlex.quote(a) for a in _cmd(workdir, "--config.train.num_steps=56"))
    proc = subprocess.run(
        ["bash", "-c", f"ulimit -f 16 && exec {cmd}"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "saving the checkpoint at step 56" in lines[0]
    assert "File too large" in lines[0] and "(checkpoint at step 48 is intact)" in lines[0]
    config = tiny_config(**SETTINGS)
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    ckpt = Checkpointer(workdir / "checkpoints")
    assert ckpt.all_steps() == [48]
    ckpt.verify(48, init_state(exp, ds.info.shape, named_keys(0)["init"]))
    ckpt.close()
