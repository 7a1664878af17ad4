"""Two processes on localhost (jax.distributed over gloo, one CPU device each) train one run
in a shared workdir: the loss curve equals a one-process run's, only one process writes the
metric log, the (orbax, multi-process) checkpoint is committed, and each process holds on its
device only its half of the training set."""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap

import numpy as np
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env

CHILD = textwrap.dedent(
    """
    import json, pathlib, sys
    from aejax.train import sharding
    sharding.initialize_distributed()
    import jax
    from conftest import tiny_config
    from aejax.train import loop
    from aejax.train import run as run_lib
    placed = []  # the DeviceData the run trained on
    device_data = run_lib.device_data
    run_lib.device_data = lambda *a, **kw: placed.append(device_data(*a, **kw)) or placed[-1]
    c = tiny_config(**{"train.num_steps": 8, "train.log_every": 2, "train.checkpoint_every": 8})
    summary = loop.train(c, sys.argv[1])
    images, labels = placed[0].fields["image"], placed[0].fields["label"]
    print(json.dumps({"processes": jax.process_count(), "devices": jax.device_count(),
                      "step": summary["step"], "num_examples": images.shape[0],
                      "rows_held": [sum(s.data.shape[0] for s in x.addressable_shards)
                                    for x in (images, labels)],
                      "first_row": images.addressable_shards[0].index[0].start or 0}))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _losses(workdir):
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows], [r["loss"] for r in rows]


def _run_two(argv: list[str], env_for=lambda i: {}) -> list[tuple[int, str, str]]:
    """Runs ``argv`` as process 0 and 1 of one jax.distributed job on localhost (gloo).

    ``env_for(i)`` adds process ``i``'s own variables. Returns ``[(returncode, stdout, stderr)]``.
    The timeout is a hang guard (a deadlock fails there), not a speed check.
    """
    env = dict(script_env(), JAX_PLATFORMS="cpu")
    port = _free_port()
    procs = []
    try:
        for i in range(2):
            penv = dict(
                env,
                AEJAX_MULTIHOST="1",
                AEJAX_COORDINATOR=f"127.0.0.1:{port}",
                AEJAX_NUM_PROCESSES="2",
                AEJAX_PROCESS_ID=str(i),
                **env_for(i),
            )
            procs.append(
                subprocess.Popen(
                    argv,
                    env=penv,
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outs = [p.communicate(timeout=HANG_GUARD_S) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs, strict=True)]


def test_two_processes_match_one(tmp_path):
    two = _run_two([PYTHON, "-c", CHILD, str(tmp_path / "two")])
    one = subprocess.run(
        [PYTHON, "-c", CHILD, str(tmp_path / "one")],
        env=dict(script_env(), JAX_PLATFORMS="cpu"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert one.returncode == 0, one.stderr[-2000:]
    first_rows = []
    for rc, out, err in two:
        assert rc == 0, err[-2000:]
        info = json.loads(out.strip().splitlines()[-1])
        assert info["processes"] == 2 and info["devices"] == 2 and info["step"] == 8
        # Each process's device holds half of the examples (images and labels), not a copy.
        assert info["num_examples"] == 512
        assert info["rows_held"] == [256, 256]
        first_rows.append(info["first_row"])
    assert first_rows == [0, 256]
    steps, two = _losses(tmp_path / "two")
    ref_steps, ref = _losses(tmp_path / "one")
    assert steps == ref_steps == [2, 4, 6, 8]  # one writer: no duplicated rows
    np.testing.assert_allclose(two, ref, rtol=1e-5)
    assert (tmp_path / "two" / "checkpoints" / "8").is_dir()


RESUME_CHILD = textwrap.dedent(
    """
    import json, sys
    from aejax.train import sharding
    sharding.initialize_distributed()
    import jax
    from conftest import tiny_config
    from aejax.train import loop
    c = tiny_config(**{"train.num_steps": 16, "train.log_every": 2, "train.checkpoint_every": 4,
                       "train.steps_per_call": 2, "train.keep_checkpoints": 1})
    summary = loop.train(c, sys.argv[1])
    print(json.dumps({"process": jax.process_index(), "step": summary["step"],
                      "resumed_from_step": summary["resumed_from_step"],
                      "state_sha256": summary["state_sha256"]}))
    """
)


def _two_processes(workdir, **extra_env) -> list[tuple[int, str, str]]:
    return _run_two([PYTHON, "-c", RESUME_CHILD, str(workdir)], lambda i: extra_env)


def test_two_processes_killed_and_rerun_in_one_workdir_resume_bitwise(tmp_path):
    """Both processes share one workdir: killed after step 10 (checkpoint 4 committed for sure:
    a save waits for the previous one; 8 may still be in flight), rerun, they agree on one step,
    finish with the state an uninterrupted two-process run ends with, and metrics.jsonl holds
    every logged step exactly once (one writer)."""
    whole = _two_processes(tmp_path / "whole")
    for rc, _, err in whole:
        assert rc == 0, err[-2000:]
    killed = _two_processes(tmp_path / "shared", AEJAX_DEBUG_KILL_AT="10")
    assert [rc for rc, _, _ in killed] == [-9, -9], [err[-1000:] for _, _, err in killed]
    resumed = _two_processes(tmp_path / "shared")
    infos = []
    for rc, out, err in resumed:
        assert rc == 0, err[-2000:]
        infos.append(json.loads(out.strip().splitlines()[-1]))
    reference = json.loads(whole[0][1].strip().splitlines()[-1])
    resumed_from = {i["resumed_from_step"] for i in infos}
    assert len(resumed_from) == 1 and resumed_from <= {4, 8}, infos
    assert [i["step"] for i in infos] == [16, 16]
    assert {i["state_sha256"] for i in infos} == {reference["state_sha256"]}
    steps, _ = _losses(tmp_path / "shared")
    assert steps == list(range(2, 17, 2))
    assert sorted(p.name for p in (tmp_path / "shared" / "checkpoints").iterdir()) == ["16"]


STOP_CHILD = textwrap.dedent(
    """
    import json, sys
    from aejax.train import sharding
    sharding.initialize_distributed()
    from conftest import tiny_config
    from aejax.train import loop
    c = tiny_config(**{"train.num_steps": 48, "train.log_every": 4, "train.checkpoint_every": 8,
                       "train.steps_per_call": 4})
    s = loop.train(c, sys.argv[1])
    print(json.dumps({k: s[k] for k in ("step", "stopped_by", "signal_received_at_step")}))
    """
)


def test_sigterm_on_one_process_stops_both_at_the_same_step(tmp_path):
    """A scheduler's SIGTERM may reach one host first: the processes agree between chunks, so
    both stop (and save, a collective) at the end of the same chunk instead of deadlocking."""
    # Only process 1 is signalled, inside the chunk 8 -> 12.
    outs = _run_two(
        [PYTHON, "-c", STOP_CHILD, str(tmp_path / "run")],
        lambda i: {"AEJAX_DEBUG_SIGNAL_AT": "9:SIGTERM"} if i == 1 else {},
    )
    for rc, out, err in outs:
        assert rc == 0, err[-2000:]
        info = json.loads(out.strip().splitlines()[-1])
        assert info == {"step": 12, "stopped_by": "SIGTERM", "signal_received_at_step": 8}
    assert (tmp_path / "run" / "checkpoints" / "12" / "aejax_manifest.json").is_file()


def test_console_lines_and_progress_bar_come_from_the_first_process_only(tmp_path):
    outs = _run_two(
        [
            PYTHON,
            "scripts/train.py",
            "--config",
            str(REPO / "tests" / "tiny_experiment.py"),
            "--workdir",
            str(tmp_path / "run"),
            "--config.train.num_steps=8",
            "--config.train.progress=True",
        ]
    )
    for rc, _, err in outs:
        assert rc == 0, err[-2000:]
    outs = [(out, err) for _, out, err in outs]
    (out0, err0), (out1, err1) = outs
    # gloo's C++ layer prints its own "[Gloo] Rank ..." line on each host; aejax's lines:
    lines0, lines1 = (
        [x for x in o.splitlines() if not x.startswith("[Gloo]")] for o in (out0, out1)
    )
    assert len(lines0) == 1 and lines0[0].startswith("trained to step 8 in "), out0
    assert lines0[0].endswith(f"outputs in {tmp_path / 'run'}")
    assert lines1 == [], out1
    assert "8/8" in err0 and "8/8" not in err1  # tqdm's bar reaches the last step on one host


# The second process reaches checkpoint retention 2 s after the first (as on a loaded machine):
# by then the first may have deleted the old checkpoint, which the second must still delete too
# (orbax's delete ends in a barrier every process must reach).
LATE_RETENTION = textwrap.dedent(
    """
    import time, jax
    from aejax.train import checkpoint as _checkpoint
    _apply = _checkpoint.Checkpointer._apply_retention
    def _late(self):
        if jax.process_index() == 1:
            time.sleep(2)
        return _apply(self)
    _checkpoint.Checkpointer._apply_retention = _late
    """
)


def test_a_late_second_process_deletes_the_same_old_checkpoints(tmp_path):
    child = RESUME_CHILD.replace("import jax\n", "import jax\n" + LATE_RETENTION, 1)
    assert child != RESUME_CHILD
    runs = _run_two([PYTHON, "-c", child, str(tmp_path / "late")])
    infos = []
    for rc, out, err in runs:
        assert rc == 0, err[-2000:]
        infos.append(json.loads(out.strip().splitlines()[-1]))
    assert [i["step"] for i in infos] == [16, 16]
    assert len({i["state_sha256"] for i in infos}) == 1
    assert sorted(p.name for p in (tmp_path / "late" / "checkpoints").iterdir()) == ["16"]
