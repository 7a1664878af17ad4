"""A tiny disentanglement study end to end: 2 methods x 2 values x 2 seeds, few steps."""

import csv
import importlib.util
import json

import numpy as np
import pytest
from conftest import REPO, tiny_config

from aejax.build.grid import shape_groups
from aejax.evaluation.disentanglement import get_protocol
from aejax.sweep import study, study_report


def _study_config_module():
    path = REPO / "experiments" / "study_locatello.py"
    spec = importlib.util.spec_from_file_location("study_locatello", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


POINTS = {
    "beta_vae": [
        (1.0, {"objective.name": "elbo", "elbo.beta": 1.0}),
        (8.0, {"objective.name": "elbo", "elbo.beta": 8.0}),
    ],
    "beta_tcvae": [
        (1.0, {"objective.name": "beta_tcvae", "beta_tcvae.tc_weight": 1.0}),
        (8.0, {"objective.name": "beta_tcvae", "beta_tcvae.tc_weight": 8.0}),
    ],
}


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    config = tiny_config(**{"train.num_steps": 16, "model.latent_dim": 3})
    protocol = get_protocol("aejax_v1", num_train=100, num_test=50)
    # Two shards into one workdir (as two machines would), then the whole study again.
    shards = [
        study.run_study(config, POINTS, 2, workdir, protocol=protocol, shard=(i, 2)) for i in (0, 1)
    ]
    again = study.run_study(config, POINTS, 2, workdir, protocol=protocol)
    return workdir, shards, again


def test_each_method_trains_as_one_vmapped_group_and_a_rerun_trains_nothing(tiny_study):
    workdir, shards, again = tiny_study
    # shard 0/2 trains the first method, 1/2 the second: one program of 2 values x 2 seeds each;
    # the report waits for the last member.
    assert [s["groups"] for s in shards] == [[4], [4]]
    assert {n.split("/")[0] for n in shards[0]["trained"]} == {"beta_vae"}
    assert {n.split("/")[0] for n in shards[1]["trained"]} == {"beta_tcvae"}
    assert [s["report"] for s in shards] == [False, True] and shards[1]["scored"] == 8
    assert again["trained"] == [] and again["groups"] == [] and again["report"]
    runs = [json.loads(x) for x in (workdir / "study_runs.jsonl").read_text().splitlines()]
    assert [len(r["trained"]) for r in runs] == [4, 4, 0]


def test_the_table_has_every_member_and_every_score(tiny_study):
    workdir, _, _ = tiny_study
    rows = list(csv.DictReader((workdir / "study.csv").open()))
    assert len(rows) == 8
    assert {(r["method"], float(r["value"]), int(r["seed"])) for r in rows} == {
        (m, v, s) for m, points in POINTS.items() for v, _ in points for s in (0, 1)
    }
    for rep in study.REPRESENTATIONS:
        for metric in study.SCORES:
            values = np.array([float(r[f"{metric}_{rep}"]) for r in rows])
            assert np.isfinite(values).all() and (values >= 0).all(), (metric, rep)
    for key in study.UNSUPERVISED:
        assert all(float(r[key]) >= 0 for r in rows)
    # The member's eval.json holds the scores the row reports.
    ev = json.loads((workdir / rows[0]["member"] / "eval.json").read_text())
    assert ev["protocol"] == "aejax_v1"
    assert float(rows[0]["mig_sampled"]) == ev["metrics"]["sampled"]["mig"]["mig"]


def test_the_report_and_its_figures_are_complete(tiny_study):
    workdir, _, _ = tiny_study
    for name in study_report.FIGURES:
        assert (workdir / name).stat().st_size > 1000, name
    md = (workdir / "study.md").read_text()
    for name in study_report.FIGURES:
        assert name in md
    assert "The paper's findings" in md and "Best value per method" in md
    assert (workdir / "study.html").stat().st_size > 10_000  # figures embedded


def test_shards_split_the_methods():
    methods = ["a", "b", "c", "d", "e"]
    assert study.shard_of(methods, (0, 2)) == ["a", "c", "e"]
    assert study.shard_of(methods, (1, 2)) == ["b", "d"]
    with pytest.raises(ValueError, match="0 <= i < n"):
        study.shard_of(methods, (2, 2))


def test_the_study_grid_gives_points_for_its_methods():
    module = _study_config_module()
    config = module.get_config("cpu")
    points = module.study_points(config)
    assert list(points) == list(module.METHODS)
    value, overrides = points["dip_vae_i"][2]
    assert value == 5.0 and overrides["objective.dip_lambda_d"] == 50.0
    # Each method's 6 values x 2 seeds differ only in hparams (the DIP-VAE weights, an extra
    # term's, included): one vmapped program per method.
    members = study.study_members(config, points, int(config.study.seeds))
    assert [len(g) for g in shape_groups(members)] == [12] * len(module.METHODS)


def test_the_command_runs_a_study_from_its_config_file(tmp_path):
    """``scripts/study.py`` with the study config file and overrides on the command line: one
    method's six values x 1 seed, a few steps, small metric samples."""
    import subprocess

    from conftest import PYTHON, script_env

    workdir = tmp_path / "study"
    cmd = [
        PYTHON,
        "scripts/study.py",
        "--config=experiments/study_locatello.py:cpu",
        f"--workdir={workdir}",
        "--config.study.methods=('beta_vae',)",
        "--config.study.seeds=1",
        "--config.study.num_train=100",
        "--config.study.num_test=50",
        "--config.train.num_steps=4",
        "--config.train.steps_per_call=4",
        "--config.data.shapes.resolution=16",
        "--config.data.shapes.num_train=256",
        "--config.data.shapes.num_test=64",
        "--progress=false",
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=script_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "trained 6 members" in proc.stdout
    rows = list(csv.DictReader((workdir / "study.csv").open()))
    assert sorted(float(r["value"]) for r in rows) == [1, 2, 4, 6, 8, 16]


def test_findings_read_regularisation_strength_not_the_raw_value():
    """AnnealedVAE's capacity regularises less as it grows: with rows whose mean-representation TC
    rises and sampled TC falls with regularisation, the finding holds for both methods only when
    the capacity's rows carry strength = -value."""

    def rows(method, values, weaker):
        out = []
        for v in values:
            strength = -v if weaker else v
            for seed in (0, 1):
                out.append(
                    {"method": method, "value": v, "strength": strength, "seed": seed,
                     "tc_mean": strength + 0.1 * seed, "tc_sampled": -strength + 0.1 * seed,
                     **{f"{m}_mean": v + seed for m in study.SCORES}}
                )  # fmt: skip
        return out

    good = rows("beta_vae", [1, 2, 4], False) + rows("annealed_vae", [5, 25, 100], True)
    assert study_report.findings(good)[0][2] == "yes"
    for r in good:
        r.pop("strength")  # read as raw values: the capacity's trends point the wrong way
    verdict = study_report.findings(good)[0]
    assert verdict[2] == "no" and "annealed_vae -0.96 / +0.96" in verdict[1]
