"""Bad configs and bad data: each stops with one line naming the key or file, expected vs actual.

One parameterised battery. Most cases call ``train`` in this process (the command line turns any
:class:`~aejax.errors.AejaxError` into ``error: <message>`` and exit status 2, which
``test_cli.py`` checks); the cases that only exist on the command line (flag parsing) run the
script. No case may leave a checkpoint behind.
"""

from __future__ import annotations

import gzip
import struct
import subprocess

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env, tiny_config

from aejax import build
from aejax.data.base import validate_images
from aejax.errors import CheckpointError, ConfigError, DataError
from aejax.train.checkpoint import Checkpointer
from aejax.train.loop import train
from aejax.train.restore import load_trained
from aejax.train.rng import named_keys
from aejax.train.run import init_state
from aejax.train.workdir import RESUMABLE_CHANGES, describe_run

TINY = str(REPO / "tests" / "tiny_experiment.py")


def write_idx(directory, n=40, *, size=28, magic=2051, truncate=0, labels=None):
    """MNIST-format files (train and t10k) holding ``n`` images of ``size x size``."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    n_labels = n if labels is None else labels
    for prefix in ("train", "t10k"):
        body = struct.pack(">IIII", magic, n, size, size) + images.tobytes()
        body = body[: len(body) - truncate]
        (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(body))
        lab = struct.pack(">II", 2049, n_labels) + (np.arange(n_labels) % 10).astype("u1").tobytes()
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(lab))
    return directory


def _idx_config(data_dir, name="digits", **overrides):
    return tiny_config(**{"data.name": name, "data.dir": str(data_dir), **overrides})


# (case id, builds the config from tmp_path, error class, needles in the one-line message)
CASES = [
    (
        "wrong_type",
        lambda d: tiny_config(**{"model.encoder.hidden": ("a",)}),
        ConfigError,
        ["model.encoder.hidden", "tuples of integers", "'a'"],
    ),
    (
        "learning_rate_0",
        lambda d: tiny_config(**{"optimizer.learning_rate": 0.0}),
        ConfigError,
        ["optimizer.learning_rate must be > 0, got 0.0"],
    ),
    (
        "learning_rate_negative",
        lambda d: tiny_config(**{"optimizer.learning_rate": -1e-3}),
        ConfigError,
        ["optimizer.learning_rate must be > 0, got -0.001"],
    ),
    (
        "batch_size_0",
        lambda d: tiny_config(**{"train.batch_size": 0}),
        ConfigError,
        ["train.batch_size must be > 0, got 0"],
    ),
    (
        "latent_size_0",
        lambda d: tiny_config(**{"model.latent_dim": 0}),
        ConfigError,
        ["model.latent_dim must be > 0, got 0"],
    ),
    (
        "beta_negative",
        lambda d: tiny_config(**{"elbo.beta": -0.5}),
        ConfigError,
        ["elbo.beta must be a number >= 0, got -0.5"],
    ),
    (
        "missing_data_dir",
        lambda d: _idx_config(d / "does-not-exist", name="mnist"),
        DataError,
        ["does-not-exist", "does not exist", "data.dir"],
    ),
    (
        "idx_wrong_magic",
        lambda d: _idx_config(write_idx(d / "data", magic=1234)),
        DataError,
        ["train-images-idx3-ubyte.gz", "bad magic number 1234, expected 2051"],
    ),
    (
        "idx_truncated",
        lambda d: _idx_config(write_idx(d / "data", truncate=100)),
        DataError,
        ["train-images-idx3-ubyte.gz", "truncated body: expected 31376 bytes", "got 31276"],
    ),
    (
        "idx_count_mismatch",
        lambda d: _idx_config(write_idx(d / "data", labels=39)),
        DataError,
        ["has 40 images but train-labels-idx1-ubyte.gz has 39 labels"],
    ),
    (
        "idx_checksum_mismatch",
        lambda d: _idx_config(write_idx(d / "data"), name="mnist"),
        DataError,
        ["train-images-idx3-ubyte.gz", "sha256 mismatch", "expected ba891046", ", got "],
    ),
]


@pytest.mark.parametrize(
    "make_config, error, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config_or_data_stops_with_one_line(tmp_path, make_config, error, needles):
    config = make_config(tmp_path)
    with pytest.raises(error) as info:
        train(config, tmp_path / "w")
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert not (tmp_path / "w" / "checkpoints").exists()


@pytest.mark.parametrize(
    "values, needles",
    [
        ([0.5, np.nan], ["x.npy", "NaN/Inf", "example 1"]),
        ([np.inf, 0.5], ["x.npy", "NaN/Inf", "example 0"]),
        ([-0.25, 0.5], ["x.npy", "must lie in [0, 1]", "got [-0.25, 0.5]"]),
        ([0.5, 1.5], ["x.npy", "must lie in [0, 1]", "got [0.5, 1.5]"]),
    ],
    ids=["nan", "inf", "below_0", "above_1"],
)
def test_bad_float_inputs_are_refused_by_name(values, needles):
    """Every source's split passes through ``validate_images``; float inputs are checked there."""
    images = np.broadcast_to(np.asarray(values, np.float32)[:, None, None, None], (2, 4, 4, 1))
    with pytest.raises(DataError) as info:
        validate_images(images, "x.npy")
    for needle in needles:
        assert needle in str(info.value)


def _saved_run(workdir, config):
    """A workdir as training leaves it (config.json and a checkpoint), without training."""
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    workdir.mkdir(parents=True)
    (workdir / "config.json").write_text(config.to_json_best_effort())
    ckpt = Checkpointer(
        workdir / "checkpoints",
        run=describe_run(config, ds, exp.train.steps_per_epoch),
        ignore_config_keys=RESUMABLE_CHANGES,
        training=True,
    )
    state = init_state(exp, ds.info.shape, named_keys(0)["init"])
    ckpt.save(state.replace(step=jnp.int32(1)))
    ckpt.close()


def test_images_of_the_wrong_size_for_the_model_are_refused(tmp_path):
    """The data under a workdir changed shape (28x28 -> 20x20): resuming or evaluating stops."""
    data = write_idx(tmp_path / "data", size=28)
    config = _idx_config(data, **{"train.num_steps": 2})
    _saved_run(tmp_path / "w", config)
    write_idx(data, size=20)
    with pytest.raises(DataError) as info:
        train(config, tmp_path / "w")
    message = str(info.value)
    assert str(data) in message and "\n" not in message
    assert "images are (20, 20, 1)" in message and "trained on (28, 28, 1)" in message
    with pytest.raises(CheckpointError) as info:
        load_trained(tmp_path / "w")
    assert "image_shape=[28, 28, 1], this run has image_shape=[20, 20, 1]" in str(info.value)


@pytest.mark.parametrize(
    "flag, needles",
    [
        ("--config.train.batchsize=3", ["unknown config key", "batchsize", "batch_size"]),
        ("--config.train.batch_size=2.5", ["train.batch_size must be an integer, got '2.5'"]),
    ],
    ids=["unknown_key", "wrong_type_flag"],
)
def test_bad_flags_give_one_line_and_status_2(tmp_path, flag, needles):
    proc = subprocess.run(
        [PYTHON, "scripts/train.py", "--config", TINY, "--workdir", str(tmp_path / "w"), flag],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())
