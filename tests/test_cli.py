"""The command-line scripts: bad input gives one clear line; kill -9 and resume loses nothing."""

from __future__ import annotations

import gzip
import json
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import PYTHON, REPO, script_env

TINY = str(REPO / "tests" / "tiny_experiment.py")


def run_script(args, **kw):
    return subprocess.run(
        [PYTHON, *args], cwd=REPO, env=script_env(), capture_output=True, text=True, **kw
    )


def write_idx(directory, images, labels, *, magic=2051, truncate=0):
    directory.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        n = len(images)
        body = struct.pack(">IIII", magic, n, 28, 28) + images.astype(np.uint8).tobytes()
        body = body[: len(body) - truncate]
        (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(body))
        lab = struct.pack(">II", 2049, n) + labels.astype(np.uint8).tobytes()
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(lab))


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    "override, needles",
    [
        (["--config.train.batchsize=3"], ["batchsize", "batch_size"]),
        (["--config.data.name=nope"], ["unknown dataset 'nope'", "shapes", "mnist"]),
        (["--config.data.name=mnist", "--config.data.dir=/does/not/exist"], ["does not exist"]),
        (["--config.train.batch_size=0"], ["train.batch_size must be > 0"]),
        (["--config.objective.name=bogus"], ["objective.name", "elbo"]),
    ],
)
def test_bad_config_gives_one_line(tmp_path, override, needles):
    proc = run_script(
        ["scripts/train.py", "--config", TINY, "--workdir", str(tmp_path / "w"), *override]
    )
    assert_one_line_error(proc, *needles)


@pytest.mark.parametrize("kind, needles", [("magic", ["magic"]), ("truncated", ["truncated"])])
def test_bad_idx_files_give_one_line(tmp_path, kind, needles):
    images = np.zeros((40, 28, 28), np.uint8)
    labels = np.arange(40) % 10
    if kind == "magic":
        write_idx(tmp_path / "data", images, labels, magic=1234)
    else:
        write_idx(tmp_path / "data", images, labels, truncate=100)
    proc = run_script(
        [
            "scripts/train.py",
            "--config",
            TINY,
            "--workdir",
            str(tmp_path / "w"),
            "--config.data.name=digits",
            f"--config.data.dir={tmp_path / 'data'}",
        ]
    )
    assert_one_line_error(proc, *needles)
    assert not (tmp_path / "w" / "checkpoints").exists()


def test_kill_9_then_restart_matches_uninterrupted_run(tmp_path):
    args = [
        "--config.train.num_steps=3000",
        "--config.train.checkpoint_every=100",
        "--config.train.log_every=20",
        "--config.train.steps_per_call=10",
    ]
    whole = run_script(
        ["scripts/train.py", "--config", TINY, "--workdir", str(tmp_path / "whole"), *args],
        timeout=600,
    )
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = json.loads((tmp_path / "whole" / "summary.json").read_text())["params_sha256"]

    workdir = tmp_path / "killed"
    cmd = [PYTHON, "scripts/train.py", "--config", TINY, "--workdir", str(workdir), *args]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=script_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    metrics = workdir / "metrics.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:
        rows = metrics.read_text().splitlines() if metrics.exists() else []
        if rows and json.loads(rows[-1])["step"] >= 1260:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (workdir / "summary.json").exists(), "the run ended before it could be killed"

    resumed = subprocess.run(cmd, cwd=REPO, env=script_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    summary = json.loads((workdir / "summary.json").read_text())
    # The newest checkpoint may have been mid-save at the kill; then the one before is used.
    assert 1100 <= summary["resumed_from_step"] < 3000
    assert summary["params_sha256"] == expected
    steps = [json.loads(x)["step"] for x in metrics.read_text().splitlines()]
    assert steps == list(range(20, 3001, 20))


def test_library_never_imports_torch():
    code = (
        "import sys, aejax.build, aejax.train.loop, aejax.evaluation.likelihood;"
        "from aejax.train.logging import MetricWriter; import tempfile;"
        "MetricWriter(tempfile.mkdtemp()).close(); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=script_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
