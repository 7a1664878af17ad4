"""End to end on a small stochastic block model in Planetoid format: training several seeds
with one compilation, resuming, determinism, link prediction well above chance, and the two
scripts dispatching to the graph trainer."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env
from planetoid_files import sbm_graph, write_planetoid

from aejax.graph.evaluate import evaluate_graph
from aejax.graph.train import train_graph

NUM_NODES, NUM_CLASSES = 120, 4


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    labels, edges = sbm_graph(NUM_NODES, NUM_CLASSES, 0.25, 0.005, seed=0)
    rng = np.random.default_rng(0)
    # noisy bag-of-words: each class switches on its own block of 5 of 20 words
    words = np.eye(NUM_CLASSES).repeat(5, axis=1)[labels] * (rng.random((NUM_NODES, 20)) < 0.6)
    noise = rng.random((NUM_NODES, 20)) < 0.05
    features = np.maximum(words, noise).astype(np.float32)
    return write_planetoid(tmp_path_factory.mktemp("planetoid"), "toy", features, labels, edges, 30)


def _config(toy_dir, experiment="vgae_cora", **overrides):
    import importlib.util

    spec = importlib.util.spec_from_file_location("e", REPO / "experiments" / f"{experiment}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    c = module.get_config()
    c.data.name, c.data.dir = "planetoid:toy", str(toy_dir)
    c.graph.num_runs, c.train.num_steps, c.train.log_every = 2, 60, 20
    for key, value in overrides.items():
        group, leaf = key.split(".")
        c[group][leaf] = value
    return c


def test_vgae_trains_all_seeds_with_one_compilation_and_resumes(toy_dir, tmp_path):
    config = _config(toy_dir)
    summary = train_graph(config, tmp_path / "a")
    assert summary["train_compilations"] == 1  # both seeds reuse the one jitted step
    assert len(set(summary["params_sha256"])) == 2  # each seed its own split and init
    rows = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").open()]
    assert [(r["run"], r["step"]) for r in rows] == [(r, s) for r in (0, 1) for s in (20, 40, 60)]
    assert rows[2]["recon"] < rows[0]["recon"]  # the loss goes down
    again = train_graph(config, tmp_path / "b")
    assert again["params_sha256"] == summary["params_sha256"]  # same seed, same parameters
    resumed = train_graph(config, tmp_path / "a")
    assert resumed["params_sha256"] == summary["params_sha256"]

    result = evaluate_graph(tmp_path / "a")
    s = result["summary"]
    assert result["method"] == "vgae" and result["published_test_auc_ap"] is None
    assert s["test_auc"]["mean"] > 0.85 and s["test_ap"]["mean"] > 0.8  # chance is 0.5
    assert s["cluster_nmi"]["mean"] > 0.3
    assert json.loads((tmp_path / "a" / "eval.json").read_text())["runs"][1]["seed"] == 1


def test_featureless_gae_with_sampled_negatives_learns_links(toy_dir, tmp_path):
    config = _config(
        toy_dir,
        "gae_cora",
        **{
            "graph.features": False,
            "graph.negatives": 3,
            "graph.num_runs": 1,
            "train.num_steps": 80,
        },
    )
    train_graph(config, tmp_path)
    result = evaluate_graph(tmp_path)
    assert result["method"] == "gae" and not result["features"]
    assert result["summary"]["test_auc"]["mean"] > 0.8


def test_scripts_dispatch_graph_experiments(toy_dir, tmp_path):
    workdir = str(tmp_path / "run")
    common = dict(cwd=REPO, env=script_env(), capture_output=True, text=True, timeout=HANG_GUARD_S)
    train = subprocess.run(
        [
            PYTHON,
            "scripts/train.py",
            "--config",
            "experiments/gae_citeseer.py",
            "--workdir",
            workdir,
            "--config.data.name=planetoid:toy",
            f"--config.data.dir={toy_dir}",
            "--config.graph.num_runs=2",
            "--config.train.num_steps=30",
            "--config.graph.cluster=False",
        ],
        **common,
    )
    assert train.returncode == 0, train.stderr
    evaluate = subprocess.run([PYTHON, "scripts/evaluate.py", "--workdir", workdir], **common)
    assert evaluate.returncode == 0, evaluate.stderr
    assert "gae toy, 2 runs: test AUC" in evaluate.stdout
    result = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert len(result["runs"]) == 2 and "cluster_acc" not in result["summary"]


def test_bad_graph_config_is_one_line(toy_dir, tmp_path):
    proc = subprocess.run(
        [
            PYTHON,
            "scripts/train.py",
            "--config",
            "experiments/vgae_cora.py",
            "--workdir",
            str(tmp_path),
            "--config.data.name=planetoid:toy",
            f"--config.data.dir={toy_dir}",
            "--config.objective.name=reconstruction",
        ],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "objective.name='elbo'" in proc.stderr


def test_pubmed_sized_graphs_need_sampled_negatives(toy_dir):
    from aejax.build.graph import build_graph_experiment
    from aejax.data.planetoid import Graph
    from aejax.errors import ConfigError

    big = Graph("pubmed", 19717, np.array([[0, 1]], np.int32), None, np.zeros(19717, np.int32), 3)
    with pytest.raises(ConfigError, match="graph.negatives=1"):
        build_graph_experiment(_config(toy_dir, **{"graph.features": False}), big)
    exp = build_graph_experiment(_config(toy_dir, **{"graph.negatives": 1}), big)
    assert exp.model.num_nodes == 19717


def test_ctrl_c_stops_the_graph_trainer_between_steps_and_the_rerun_finishes(
    toy_dir, tmp_path, monkeypatch
):
    import signal

    import aejax.graph.train as graph_train

    config = _config(toy_dir)
    reference = train_graph(config, tmp_path / "reference")
    writes = []
    write = graph_train.MetricWriter.write

    def write_then_ctrl_c(self, step, scalars, **kw):  # Ctrl-C right after run 1's first row
        write(self, step, scalars, **kw)
        writes.append((scalars["run"], step))
        if writes[-1] == (1, 20):
            signal.raise_signal(signal.SIGINT)  # without the handler: KeyboardInterrupt

    monkeypatch.setattr(graph_train.MetricWriter, "write", write_then_ctrl_c)
    workdir = tmp_path / "run"
    # Python's own Ctrl-C handler, also where this runs as a background job (SIGINT ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stopped = train_graph(config, workdir)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stopped["preempted"] and stopped["stopped_by"] == "SIGINT"
    assert (stopped["run"], stopped["step"], stopped["runs_finished"]) == (1, 20, 1)
    assert writes == [(0, 20), (0, 40), (0, 60), (1, 20)]  # no step after the one it was in
    assert (workdir / "runs" / "0" / "run.json").exists()
    assert not (workdir / "runs" / "1").exists() and not (workdir / "summary.json").exists()
    monkeypatch.undo()
    resumed = train_graph(config, workdir)
    assert resumed["params_sha256"] == reference["params_sha256"]
