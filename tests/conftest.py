"""Test configuration: strict numerics so silent promotions fail, and shared tiny configs."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import tempfile

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# A subprocess that runs longer than this has hung (a deadlock, a lost signal). It is a guard
# against hangs, never a speed check: a loaded machine may take many times a quiet one's time.
HANG_GUARD_S = 1800
# One persistent XLA compilation cache for every script the tests start, shared by the pytest-xdist
# workers: the kill/resume, signal, bucket and multi-process tests restart the same tiny programs
# many times, and a restart then loads the compiled step instead of compiling it again (the same
# executable gives the same bits). Made by the controller, removed when the session ends.
_CACHE_ENV = "AEJAX_TEST_JAX_CACHE"


def pytest_configure(config):
    if _CACHE_ENV not in os.environ:  # the controller (xdist workers inherit its environment)
        os.environ[_CACHE_ENV] = tempfile.mkdtemp(prefix="aejax-test-jax-cache-")
        config._aejax_owns_cache = True


def pytest_unconfigure(config):
    if getattr(config, "_aejax_owns_cache", False):
        shutil.rmtree(os.environ.pop(_CACHE_ENV), ignore_errors=True)


@pytest.fixture
def key():
    return jax.random.key(0)


def tiny_config(**overrides):
    """A config that trains in seconds: 16x16 shapes, a small MLP VAE."""
    from aejax.defaults import base_config

    c = base_config()
    c.data.name = "shapes"
    c.data.shapes.resolution = 16
    c.data.shapes.num_train = 512
    c.data.shapes.num_test = 128
    c.model.latent_dim = 4
    c.model.encoder.hidden = (32,)
    c.model.decoder.hidden = (32,)
    c.train.batch_size = 32
    c.train.num_steps = 40
    c.train.log_every = 10
    c.train.checkpoint_every = 20
    c.train.steps_per_call = 8
    c.train.progress = False
    c.eval.iwae_k = 8
    c.evals.periodic = ""  # tests of the periodic evaluation turn it on (it costs time)
    for k, v in overrides.items():
        target = c
        *parents, leaf = k.split(".")
        for p in parents:
            target = target[p]
        target[leaf] = v
    return c


def script_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests"), env.get("PYTHONPATH", "")])
    if SHARED_DATA.exists():
        env.setdefault("AEJAX_DATA_DIR", str(SHARED_DATA))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if _CACHE_ENV in os.environ:
        env["JAX_COMPILATION_CACHE_DIR"] = os.environ[_CACHE_ENV]
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    return env


PYTHON = sys.executable


def run_script(*args: str):
    """Runs ``python ARGS`` from the repository root; fails the test on a non-zero exit."""
    import subprocess

    proc = subprocess.run(
        [PYTHON, *args],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc
