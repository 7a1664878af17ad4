"""Ctrl-C (SIGINT) and SIGTERM: the run finishes the chunk it is in, saves, exits 0 with one line,
and the rerun of the same command ends bitwise where an uninterrupted run ends; a second Ctrl-C
during the final save exits 130 at once and leaves the previous checkpoint intact.

Signals at exact points come from ``AEJAX_DEBUG_SIGNAL_AT`` (see :mod:`aejax.train.preemption`);
one test sends a real SIGINT from this process, so the handler is known to be installed. The
settings are those of the crash tests: chunks of 4 steps (log_every=4 keeps them aligned at
multiples of 4), a checkpoint every 8 steps, keep_checkpoints=1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, tiny_config
from test_reliability_crash import SETTINGS, _cmd, _env, _final_leaves

from aejax import build
from aejax.cli import run_main
from aejax.errors import ConfigError, StoppedBySignal
from aejax.train import preemption
from aejax.train.checkpoint import Checkpointer
from aejax.train.logging import read_jsonl
from aejax.train.loop import train
from aejax.train.rng import named_keys
from aejax.train.run import init_state

CHUNK = SETTINGS["train.steps_per_call"]
TOTAL = SETTINGS["train.num_steps"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the same config, in this process."""
    workdir = tmp_path_factory.mktemp("reference")
    config = tiny_config(**SETTINGS)
    summary = train(config, workdir)
    return workdir, summary, _final_leaves(workdir, config)


# Start the child with SIGINT at its default action even if this process runs where Ctrl-C is
# ignored (a background job of a non-interactive shell), where the child would inherit SIG_IGN.
_WITH_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _run(workdir, **env):
    """Runs the training script with SIGINT at its default action, as from a terminal, also where
    this process runs as a background job (SIGINT ignored, which the child would inherit)."""
    return subprocess.run(
        [PYTHON, "-c", _WITH_DEFAULT_SIGINT, *_cmd(workdir)],
        cwd=REPO,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )


def _verify(workdir, step):
    """The checkpoint at ``step`` passes verification (files, manifest, tree)."""
    config = tiny_config(**SETTINGS)
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    ckpt = Checkpointer(workdir / "checkpoints")
    try:
        ckpt.verify(step, init_state(exp, ds.info.shape, named_keys(0)["init"]))
        return ckpt.all_steps()
    finally:
        ckpt.close()


def _assert_rerun_matches_reference(workdir, reference, resumed_from):
    ref_dir, ref_summary, ref_leaves = reference
    again = _run(workdir)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["resumed_from_step"] == resumed_from
    assert summary["step"] == ref_summary["step"] == TOTAL
    assert not summary["preempted"] and summary["stopped_by"] is None
    assert summary["state_sha256"] == ref_summary["state_sha256"]
    assert summary["params_sha256"] == ref_summary["params_sha256"]
    leaves = _final_leaves(workdir, tiny_config(**SETTINGS))
    for a, b in zip(leaves, ref_leaves, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    seen = read_jsonl(workdir / "examples.jsonl")
    assert [r["step"] for r in seen] == list(range(TOTAL))
    assert seen == read_jsonl(ref_dir / "examples.jsonl")


@pytest.mark.parametrize(
    "name, at, chunk_end",
    [
        # step 9 is inside the chunk 8 -> 12; 12 is not a checkpoint step, so the stop saves it
        ("SIGINT", 9, 12),
        # step 21 is inside the chunk 20 -> 24, a checkpoint step the loop saves anyway
        ("SIGTERM", 21, 24),
    ],
)
def test_signal_inside_a_chunk_stops_at_its_end_and_the_rerun_is_bitwise_equal(
    tmp_path, reference, name, at, chunk_end
):
    workdir = tmp_path / "run"
    proc = _run(workdir, AEJAX_DEBUG_SIGNAL_AT=f"{at}:{name}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines() == [
        f"stopped by {name} at step {chunk_end}; the checkpoint at that step is committed; "
        "rerun the same command to continue"
    ]
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["preempted"] and summary["stopped_by"] == name
    assert summary["step"] == chunk_end
    received = summary["signal_received_at_step"]
    assert received == chunk_end - CHUNK  # the start of the chunk that was running
    assert received < at <= summary["step"] <= received + CHUNK
    assert _verify(workdir, chunk_end) == [chunk_end]  # committed; keep_checkpoints=1
    rows = read_jsonl(workdir / "metrics.jsonl")
    assert rows[-1]["step"] == chunk_end
    _assert_rerun_matches_reference(workdir, reference, resumed_from=chunk_end)


def test_second_sigint_during_the_final_save_exits_130_and_keeps_the_previous_checkpoint(
    tmp_path, reference
):
    workdir = tmp_path / "run"
    # Ctrl-C in the chunk 8 -> 12, then Ctrl-C again while the checkpoint at 12 is being written.
    proc = _run(workdir, AEJAX_DEBUG_SIGNAL_AT="9:SIGINT,12:save:SIGINT")
    assert proc.returncode == 128 + signal.SIGINT, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert errors == [
        "error: interrupted again; stopped without saving step 12 (the checkpoint at step 8 is "
        "intact; rerun the same command to continue from it)"
    ]
    assert "stopped by" not in proc.stdout
    assert not (workdir / "summary.json").exists()  # it stopped before writing anything more
    # The cut-short save is only orbax's temporary directory; the checkpoint at 8 is intact.
    assert (workdir / "checkpoints" / "12.orbax-checkpoint-tmp").is_dir()
    assert _verify(workdir, 8) == [8]
    _assert_rerun_matches_reference(workdir, reference, resumed_from=8)


def test_a_real_sigint_from_outside_is_honoured(tmp_path):
    workdir = tmp_path / "run"
    cmd = [PYTHON, "-c", _WITH_DEFAULT_SIGINT, *_cmd(workdir, "--config.train.num_steps=100000")]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    metrics = workdir / "metrics.jsonl"
    deadline = time.time() + 240  # a hang guard while the run starts, not a speed check
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().strip()):
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=HANG_GUARD_S)
    # Without the handler, Python's KeyboardInterrupt would end it with status 130.
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    summary = json.loads((workdir / "summary.json").read_text())
    stopped, received = summary["step"], summary["signal_received_at_step"]
    assert summary["preempted"] and summary["stopped_by"] == "SIGINT"
    assert SETTINGS["train.log_every"] <= received <= stopped <= received + CHUNK < 100000
    assert out.splitlines() == [
        f"stopped by SIGINT at step {stopped}; the checkpoint at that step is committed; "
        "rerun the same command to continue"
    ]
    assert f"SIGINT received at step {received}" in err
    assert _verify(workdir, stopped)[-1] == stopped


def test_sigint_ignored_at_start_stays_ignored_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as for `nohup cmd &`
        with preemption.StopRequest() as stop:
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == stop._handler
            stop.step = 5
            signal.raise_signal(signal.SIGTERM)
            stop.step = 9
            signal.raise_signal(signal.SIGTERM)  # a repeated SIGTERM changes nothing
            assert (stop.signal_name, stop.received_at, stop.handled) == ("SIGTERM", 5, 2)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == before[1]
        # Python's own Ctrl-C handler (set here: this process may itself have started ignoring it)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with preemption.StopRequest() as stop:
            assert signal.getsignal(signal.SIGINT) == stop._handler
        assert signal.getsignal(signal.SIGINT) == signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_signal_points_parse_and_reject(monkeypatch):
    monkeypatch.setenv(preemption.ENV_SIGNAL_AT, "9:SIGINT, 12:save:sigint,3:SIGTERM")
    assert preemption.signal_points() == [
        (9, "step", signal.SIGINT),
        (12, "save", signal.SIGINT),
        (3, "step", signal.SIGTERM),
    ]
    for bad in ("9", "9:SIGNOPE", "x:SIGINT", "9:load:SIGINT"):
        monkeypatch.setenv(preemption.ENV_SIGNAL_AT, bad)
        with pytest.raises(ConfigError, match="AEJAX_DEBUG_SIGNAL_AT"):
            preemption.signal_points()


class _App:
    """Stands in for absl.app: ``run`` raises what the test gives it."""

    def __init__(self, exc):
        self.exc = exc

    def run(self, main, flags_parser):
        raise self.exc


def test_scripts_turn_a_stop_and_a_stray_ctrl_c_into_one_line(capsys):
    assert run_main(_App(StoppedBySignal("stopped by SIGINT at step 4; ...")), None) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("stopped by SIGINT at step 4; ...\n", "")
    assert run_main(_App(KeyboardInterrupt()), None) == 130  # e.g. Ctrl-C during evaluation
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: interrupted\n")


def test_stop_message_of_the_graph_trainer_and_of_a_finished_run():
    graph = {"preempted": True, "stopped_by": "SIGINT", "run": 2, "step": 17, "runs_finished": 2}
    assert preemption.stop_message(graph, " of gae") == (
        "stopped by SIGINT in run 2 at step 17 of gae; 2 finished run(s) are saved; rerun the "
        "same command to continue (run 2 starts over)"
    )
    assert preemption.stop_message({"preempted": False, "step": 48}) is None
    preemption.raise_if_stopped({"preempted": False, "step": 48})  # does not raise
    with pytest.raises(StoppedBySignal, match="stopped by SIGTERM at step 8 of member a=1;"):
        preemption.raise_if_stopped(
            {"preempted": True, "stopped_by": "SIGTERM", "step": 8}, " of member a=1"
        )
