"""The command-line scripts: bad input gives one clear line; kill -9 and resume loses nothing."""

from __future__ import annotations

import gzip
import json
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


@pytest.mark.parametrize(
    "script, extra",
    [
        ("scripts/train.py", []),
        ("scripts/train.py", ["--config.train.num_steps=3"]),  # overrides parse before the file
        ("scripts/sweep.py", ["--sweep=elbo.beta=1,2"]),
        ("scripts/benchmark.py", ["--out=OUT"]),
    ],
)
def test_missing_config_file_gives_one_line(tmp_path, script, extra):
    missing = tmp_path / "nope.py"
    extra = [e.replace("OUT", str(tmp_path / "b.json")) for e in extra]
    workdir = [] if "benchmark" in script else ["--workdir", str(tmp_path / "w")]
    proc = run_script([script, "--config", str(missing), *workdir, *extra])
    assert_one_line_error(proc, f"--config {missing}", "no such")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "w").exists() and not (tmp_path / "b.json").exists()


def test_config_directory_or_file_without_get_config_gives_one_line(tmp_path):
    proc = run_script(["scripts/train.py", "--config", str(tmp_path), "--workdir", "unused"])
    assert_one_line_error(proc, "is a directory")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    proc = run_script(["scripts/train.py", "--config", str(empty), "--workdir", "unused"])
    assert_one_line_error(proc, str(empty), "get_config()")


def _config_file(path, **keys):
    """An experiment file: the tiny config with ``keys`` (flat) set."""
    path.write_text(
        "from conftest import tiny_config\n\n\n"
        f"def get_config():\n    return tiny_config(**{keys!r})\n"
    )
    return str(path)


def _train(config, workdir, *overrides):
    proc = run_script(
        ["scripts/train.py", "--config", config, "--workdir", str(workdir), *overrides]
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((workdir / "summary.json").read_text())


def test_command_line_length_replaces_the_config_files_length(tmp_path):
    # tiny: 512 examples in batches of 32 = 16 steps per epoch; the file sets num_steps=40.
    run = tmp_path / "run"
    first = _train(TINY, run, "--config.train.num_epochs=1")
    assert first["step"] == 16
    # Resuming names the other key: the run continues to 24 steps.
    resumed = _train(TINY, run, "--config.train.num_steps=24")
    assert resumed["step"] == 24 and resumed["resumed_from_step"] == 16
    assert resumed["steps_this_session"] == 8
    # A file that trains for epochs, shortened on the command line to a number of steps.
    epochs = _config_file(tmp_path / "epochs.py", **{"train.num_steps": 0, "train.num_epochs": 2})
    assert _train(epochs, tmp_path / "steps", "--config.train.num_steps=8")["step"] == 8


@pytest.mark.parametrize(
    "kind", ["file sets both", "command line gives both", "command line zeroes the only one"]
)
def test_both_lengths_or_none_is_still_refused(tmp_path, kind):
    both = {"train.num_steps": 8, "train.num_epochs": 1}
    config, overrides = TINY, []
    if kind == "file sets both":
        config = _config_file(tmp_path / "both.py", **both)
    elif kind == "command line gives both":
        overrides = ["--config.train.num_steps=8", "--config.train.num_epochs=1"]
    else:  # an explicit 0 chooses nothing, so it clears nothing
        overrides = ["--config.train.num_steps=0"]
    proc = run_script(
        ["scripts/train.py", "--config", config, "--workdir", str(tmp_path / "w"), *overrides]
    )
    assert_one_line_error(proc, "give exactly one of train.num_steps and train.num_epochs")
    assert not (tmp_path / "w" / "checkpoints").exists()


def test_an_unknown_config_variant_is_one_line_without_the_traceback():
    from aejax.cli import flag_error_message

    sys.path.insert(0, str(REPO))
    from experiments import vae_mnist

    with pytest.raises(ValueError) as raised:
        vae_mnist.get_config("nope")
    # What absl reports when get_config raises inside ml_collections' parser (flattened).
    text = (
        "flag --config=experiments/vae_mnist.py:nope: Error whilst parsing config file: "
        'Traceback (most recent call last):\n  File "config_flags.py", line 684, in parse\n'
        "    config = config_module.get_config(*split_path[1:])\n"
        f"ValueError: {raised.value}"
    )
    line = flag_error_message(text)
    assert line == f"--config=experiments/vae_mnist.py:nope is not valid: {raised.value}"
    assert "beta4" in line and "Traceback" not in line and "\n" not in line
