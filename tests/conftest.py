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


# The slow tier (`make test-slow`; `.ci/run` runs it after `make test`): end-to-end tests that
# each train, kill, resume or evaluate whole runs, chosen as the slowest by `--durations=0` on 2
# cores (2026-12-02), so that `make test` stays under 10 minutes there. Whole modules where a
# module-scoped fixture trains the run every test reads; otherwise single test functions (every
# parametrisation). Nothing here is skipped by CI.
SLOW_MODULES = (
    "test_sharding.py",  # 8 simulated devices: 5 trainings in one child process
    "test_signals.py",  # signals inside chunks, each rerun compared bitwise with a reference run
    "test_multihost.py",  # two jax processes (kill/rerun, SIGTERM, console lines)
)
SLOW_FUNCTIONS = (
    "test_objectives_contract.py::test_objective_contract",
    "test_reliability_checkpoints.py::test_damaged_newest_checkpoint_is_refused_and_resume_falls_back",
    "test_reliability_checkpoints.py::test_training_resume_skips_damaged_checkpoint_and_continues_bitwise",
    "test_report.py::test_suite_writes_every_section_and_plot",  # these five share the trained
    "test_report.py::test_subset_suite_keeps_other_sections",  # and evaluated run of the
    "test_report.py::test_report_embeds_every_plot_and_table",  # module fixture `evaluated`
    "test_report.py::test_run_report_reads_headline_first",
    "test_report.py::test_report_renders_in_headless_chromium",
    "test_cli.py::test_command_line_length_replaces_the_config_files_length",
    "test_cli.py::test_both_lengths_or_none_is_still_refused",
    "test_sweep.py::test_ctrl_c_in_a_member_saves_it_and_stops_the_sweep",
    "test_sweep.py::test_vmapped_members_equal_members_trained_alone",
    "test_sweep.py::test_sweep_command_takes_a_length_override_and_evaluates_quick",
    "test_players.py::test_two_player_step_updates_each_player_at_its_own_rate",
    "test_players.py::test_m2_trains_with_a_labelled_pool",
    "test_players.py::test_m2_marginalises_labels_exactly",
    "test_players.py::test_factor_vae_critic_learns_to_separate_correlated_codes",
    "test_train.py::test_resume_continues_the_same_stream",
    "test_train.py::test_unrolled_chunks_train_the_same_run",
    "test_train.py::test_same_seed_same_params_other_seed_differs",
    "test_train.py::test_changed_config_in_existing_workdir_is_refused",
    "test_train.py::test_nonfinite_loss_stops_with_step_and_quantity",
    "test_reliability_crash.py::test_kill_9_five_times_then_resume_is_bitwise_equal",
    "test_hierarchical.py::test_evaluate_split_scores_a_hierarchical_model",
    "test_bucket_workdir.py::test_train_killed_twice_then_resumed_on_a_bucket_is_bitwise_the_local_run",
    "test_convlstm_model.py::test_decoder_shapes_and_sequence_likelihood_is_framewise_bce",
    "test_convlstm_model.py::test_a_sequence_run_trains_and_evaluates_through_its_kind",
    "test_study.py::test_the_command_runs_a_study_from_its_config_file",
    "test_priors.py::test_each_prior_and_likelihood_trains_without_nan",
    "test_graph_train.py::test_scripts_dispatch_graph_experiments",
    "test_graph_train.py::test_ctrl_c_stops_the_graph_trainer_between_steps_and_the_rerun_finishes",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = pathlib.Path(str(item.fspath)).name
        function = f"{module}::{item.originalname or item.name}"
        if module in SLOW_MODULES or function in SLOW_FUNCTIONS:
            item.add_marker(pytest.mark.slow)


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
