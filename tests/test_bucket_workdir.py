"""A ``gs://`` workdir through the whole cycle, on a fake bucket (tests/fake_bucket.py).

Each command runs as its own process from an empty current directory, exactly as on a cloud
worker, with only the bucket's storage redirected to a local folder; the library takes its
bucket code paths (epath's fsspec backend, orbax's commit-file checkpoints, TensorBoard events
written through epath). Nothing may land in the current directory or in a local ``gs:`` folder.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env, tiny_config

from aejax.train.logging import read_jsonl
from aejax.train.loop import train

SETTINGS = {
    "train.num_steps": 24,
    "train.checkpoint_every": 8,
    "train.log_every": 4,
    "train.steps_per_call": 4,
    "train.keep_checkpoints": 2,
    "train.log_example_ids": True,
}
FLAGS = [f"--config.{k}={v}" for k, v in SETTINGS.items()]
TINY = str(REPO / "tests" / "tiny_experiment.py")
RUN = "gs://bucket/runs/tiny"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same run, uninterrupted, in a local workdir."""
    workdir = tmp_path_factory.mktemp("local")
    return workdir, train(tiny_config(**SETTINGS), workdir)


@pytest.fixture
def bucket(tmp_path):
    root = tmp_path / "root"
    (root / "bucket").mkdir(parents=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def run(script: str, *args: str, **env) -> subprocess.CompletedProcess:
        environ = script_env()
        environ.update(env)
        return subprocess.run(
            [PYTHON, str(REPO / "tests" / "fake_bucket.py"), str(root), script, *args],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
        )

    run.root, run.cwd = root, cwd
    return run


def _train_args(workdir: str = RUN) -> list[str]:
    return ["--config", TINY, "--workdir", workdir, *FLAGS]


def test_train_killed_twice_then_resumed_on_a_bucket_is_bitwise_the_local_run(bucket, reference):
    ref_dir, ref_summary = reference
    train_py = str(REPO / "scripts" / "train.py")
    # Killed right after step 10 (checkpoint 8 committed), then inside the save of step 16
    # (arrays written, commit file not yet): the uncommitted step-16 directory is not a checkpoint.
    for point in ("10", "16:save"):
        proc = bucket(train_py, *_train_args(), AEJAX_DEBUG_KILL_AT=point)
        assert proc.returncode == -9, (point, proc.stderr[-2000:])
    done = bucket(train_py, *_train_args())
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"outputs in {RUN}" in done.stdout
    run_dir = bucket.root / "bucket" / "runs" / "tiny"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumed_from_step"] == 8
    assert summary["state_sha256"] == ref_summary["state_sha256"]
    assert summary["params_sha256"] == ref_summary["params_sha256"]
    # Every metrics row once, as in the local run; the examples read per step are the same.
    rows = read_jsonl(run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(4, 25, 4))
    assert read_jsonl(run_dir / "examples.jsonl") == read_jsonl(ref_dir / "examples.jsonl")
    # Committed checkpoints only (commit file + manifest), retention kept the newest two.
    ckpts = run_dir / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["16", "24"]
    for step in ("16", "24"):
        assert (ckpts / step / "commit_success.txt").is_file()
        assert (ckpts / step / "aejax_manifest.json").is_file()
    events = list((run_dir / "tb").iterdir())
    assert events and all(e.name.startswith("events.out.tfevents") for e in events)

    # Evaluate and report in the bucket, as on a worker with no local copy of the run.
    ev = bucket(
        str(REPO / "scripts" / "evaluate.py"),
        "--workdir",
        RUN,
        "--suite",
        "likelihood,images",
        "--iwae_k",
        "4",
        "--progress=false",
    )
    assert ev.returncode == 0, ev.stderr[-2000:]
    evaluation = json.loads((run_dir / "eval.json").read_text())
    assert evaluation["step"] == 24 and evaluation["test_iwae_nll_nats"] > 0
    assert (run_dir / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    rep = bucket(str(REPO / "scripts" / "report.py"), "--workdir", RUN)
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert "Headline" in (run_dir / "report.html").read_text()
    assert (run_dir / "report.md").is_file()
    assert list(bucket.cwd.iterdir()) == []  # nothing local, no "gs:" folder
    assert not list(REPO.glob("gs:*"))


def test_vmapped_sweep_into_a_bucket(bucket):
    sweep = bucket(
        str(REPO / "scripts" / "sweep.py"),
        "--config",
        TINY,
        "--workdir",
        "gs://bucket/sweep",
        "--sweep",
        "elbo.beta=1,2",
        "--vmap",
        "--iwae_k",
        "2",
        "--config.train.num_steps=8",
    )
    assert sweep.returncode == 0, sweep.stderr[-2000:]
    root = bucket.root / "bucket" / "sweep"
    for name in ("sweep.csv", "sweep.md", "sweep.html", "sweep_plots.png", "sweep.json"):
        assert (root / name).is_file(), name
    members = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(members) == 2
    for m in members:
        assert json.loads((root / m / "summary.json").read_text())["step"] == 8
        assert (root / m / "eval.json").is_file()
    assert list(bucket.cwd.iterdir()) == []


def test_a_missing_bucket_is_refused_before_training_in_one_line(bucket):
    proc = bucket(str(REPO / "scripts" / "train.py"), *_train_args("gs://no-bucket/runs/x"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert lines[0].startswith("error: cannot write to gs://no-bucket/runs/x: ")
    assert "bucket does not exist" in lines[0]
    assert sorted(p.name for p in bucket.root.iterdir()) == ["bucket"]
    assert list(bucket.cwd.iterdir()) == []
