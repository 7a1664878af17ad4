"""Evaluation profiles (quick by default, paper on request) and the "skipped" lines of the suite.

One tiny run (16x16 shapes, no class held out) is trained once and evaluated through
``scripts/evaluate.py`` with each profile.
"""

import json
import subprocess

import numpy as np
import pytest
from conftest import PYTHON, REPO, run_script, script_env, tiny_config

from aejax.data.base import ArrayDataset, DatasetInfo
from aejax.evaluation import profiles, suite

_run = run_script  # python ARGS from the repository root; asserts exit 0


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("runs") / "tiny"
    _run(
        "scripts/train.py",
        "--config=tests/tiny_experiment.py",
        f"--workdir={workdir}",
        "--config.train.num_steps=16",
        "--config.train.checkpoint_every=16",
    )
    return workdir


def test_profiles_choose_different_work_and_flags_replace_single_choices():
    ev = tiny_config().eval
    ev.iwae_k = 5000
    quick = suite.settings_for(profiles.PROFILES["quick"], ev, {})
    paper = suite.settings_for(profiles.PROFILES["paper"], ev, {})
    assert (quick.profile, quick.iwae_k, quick.iwae_num_test) == ("quick", 100, 1000)
    assert (paper.profile, paper.iwae_k, paper.iwae_num_test) == ("paper", 5000, 0)
    assert quick.transfer_max_train == 3000 and paper.transfer_max_train == 0  # 0 = all
    assert (quick.tsne_points, paper.tsne_points) == (500, 1000)
    assert quick.cluster_examples == 2000 and paper.cluster_examples == 0
    assert quick.robust_examples < paper.robust_examples
    assert quick.disentanglement_num_train < paper.disentanglement_num_train
    # Settings' own defaults are the paper profile's.
    assert paper == suite.Settings(
        iwae_k=5000, batch_size=ev.batch_size, max_samples_per_call=(ev.max_samples_per_call)
    )
    # A flag replaces that one choice; the rest stays the profile's.
    mixed = suite.settings_for(profiles.PROFILES["quick"], ev, {"iwae_k": 7, "iwae_num_test": 0})
    assert (mixed.iwae_k, mixed.iwae_num_test, mixed.cluster_examples) == (7, 0, 2000)
    # quick never asks for more samples than the config's eval.iwae_k
    ev.iwae_k = 8
    assert suite.settings_for(profiles.PROFILES["quick"], ev, {}).iwae_k == 8


def test_quick_profile_by_default_records_settings_and_skipped_parts(workdir):
    proc = _run(
        "scripts/evaluate.py",
        f"--workdir={workdir}",
        "--suite=likelihood,anomaly",
        "--iwae_num_test=32",
        "--progress=false",
    )
    assert "[anomaly] skipped: the run holds no class out of training" in proc.stdout
    assert "[anomaly] done" not in proc.stdout and "[likelihood] done" in proc.stdout
    assert "quick profile" in proc.stdout
    ev = json.loads((workdir / "eval.json").read_text())
    assert ev["profile"]["name"] == "quick" and ev["profile"]["overridden"] == ["iwae_num_test"]
    settings = ev["profile"]["settings"]
    assert settings["iwae_k"] == 8 and settings["iwae_num_test"] == 32  # K = min(100, eval.iwae_k)
    assert settings["transfer_max_train"] == profiles.PROFILES["quick"].transfer_max_train
    assert ev["parts"]["likelihood"] == {"ran": True, "profile": "quick"}
    assert ev["parts"]["anomaly"]["ran"] is False
    assert ev["parts"]["anomaly"]["skipped"] == ev["anomaly"]["skipped"]
    # -ELBO on all 128 test images, IWAE on the first 32 (compared with their own -ELBO).
    assert ev["test_num_examples"] == 128 and ev["test_iwae_num_examples"] == 32
    assert ev["test_iwae_nll_nats"] <= ev["test_neg_elbo_nats_on_iwae_examples"]
    assert ev["test_neg_elbo_nats_on_iwae_examples"] != ev["test_neg_elbo_nats"]
    assert any("first 32 of 128" in note for note in ev["likelihood"]["notes"])


def test_paper_profile_runs_iwae_on_every_test_image(workdir):
    _run(
        "scripts/evaluate.py",
        f"--workdir={workdir}",
        "--profile=paper",
        "--suite=likelihood",
        "--progress=false",
    )
    ev = json.loads((workdir / "eval.json").read_text())
    assert ev["profile"]["name"] == "paper" and ev["profile"]["overridden"] == []
    assert ev["profile"]["settings"]["iwae_num_test"] == 0
    assert ev["iwae_k"] == 8 and ev["test_iwae_num_examples"] == ev["test_num_examples"] == 128
    assert ev["test_iwae_nll_nats"] <= ev["test_neg_elbo_nats"]
    # The quick run's subset-only key is gone: the split was evaluated again.
    assert "test_neg_elbo_nats_on_iwae_examples" not in ev
    assert ev["parts"]["likelihood"]["profile"] == "paper"
    assert ev["parts"]["anomaly"]["profile"] == "quick"  # kept from the earlier run


def test_unknown_profile_is_one_line(workdir):
    proc = subprocess.run(
        [PYTHON, "scripts/evaluate.py", f"--workdir={workdir}", "--profile=fast"],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error:") and "quick" in line and "paper" in line


def test_a_part_that_does_not_apply_says_skipped_and_why(tmp_path, capsys):
    info = DatasetInfo(name="digits", shape=(4, 4, 1), num_classes=2)
    ds = ArrayDataset(np.zeros((6, 4, 4, 1), np.float32), np.zeros(6, np.int32), None, info)
    settings = suite.Settings(iwae_k=0, batch_size=2, max_samples_per_call=10, progress=False)
    ctx = suite.Context(run=None, workdir=tmp_path, settings=settings, load_split=lambda s: ds)
    result, written = suite.run_suite(ctx, ("disentanglement",), {})
    out = capsys.readouterr().out
    assert "[disentanglement] skipped: the data has no ground-truth factors" in out
    assert "done in" not in out and written == []
    assert result["parts"]["disentanglement"] == {
        "ran": False,
        "skipped": "the data has no ground-truth factors",
        "profile": "paper",
    }
