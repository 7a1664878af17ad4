"""The command-line scripts: bad input gives one clear line; kill -9 and resume loses nothing."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys

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
