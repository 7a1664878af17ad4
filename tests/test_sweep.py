"""Sweeps: grid expansion, shape grouping, vmapped members equal members trained alone, reports."""

from __future__ import annotations

import csv
import json
import statistics
import subprocess

import numpy as np
import pytest
from conftest import PYTHON, REPO, script_env, tiny_config

from aejax import build
from aejax.errors import ConfigError
from aejax.sweep import report
from aejax.sweep.grid import expand, parse_sweep, shape_groups
from aejax.sweep.run import run_sweep
from aejax.train.loop import train
from aejax.train.restore import load_trained


def test_grid_is_product_of_values_and_seeds():
    c = tiny_config()
    c.seed = 3
    members = expand(c, ["elbo.beta=1,4", "optimizer.learning_rate=1e-3,3e-3,1e-2"], 2)
    assert len(members) == 2 * 3 * 2
    got = {(m.config.elbo.beta, m.config.optimizer.learning_rate, m.config.seed) for m in members}
    assert got == {(b, lr, s) for b in (1.0, 4.0) for lr in (1e-3, 3e-3, 1e-2) for s in (3, 4)}
    assert len({m.name for m in members}) == len(members)
    # Only hparams and seeds differ: one vmapped group.
    assert [len(g) for g in shape_groups(members)] == [12]


def test_shape_changing_keys_split_groups():
    members = expand(tiny_config(), ["model.latent_dim=2,3", "elbo.beta=1,2"], 1)
    groups = shape_groups(members)
    assert sorted(len(g) for g in groups) == [2, 2]
    for g in groups:
        assert len({m.config.model.latent_dim for m in g}) == 1


@pytest.mark.parametrize("spec", ["elbo.beta", "=1,2", "elbo.beta="])
def test_bad_sweep_spec_is_config_error(spec):
    with pytest.raises(ConfigError, match="KEY=V1"):
        parse_sweep(spec)


def test_unknown_sweep_key_is_config_error():
    with pytest.raises(ConfigError, match="objective.bta"):
        expand(tiny_config(), ["objective.bta=1,2"], 1)


def test_vmapped_members_equal_members_trained_alone(tmp_path, capsys):
    c = tiny_config(**{"train.num_steps": 24, "train.log_every": 8, "data.shapes.num_test": 64})
    info = run_sweep(
        c, ["elbo.beta=0.5,4"], 2, tmp_path / "sweep", use_vmap=True, iwae_k=4, progress=True
    )
    assert info["groups"] == [4]
    out, err = capsys.readouterr()
    (line,) = [x for x in out.splitlines() if x.startswith("group ")]
    (stats,) = info["group_stats"]
    # 4 members x 24 steps x 32 examples over the group's training time; per member is a quarter
    aggregate = 4 * 24 * 32 / stats["train_s"]
    assert stats["aggregate_examples_per_s"] == pytest.approx(aggregate)
    assert stats["per_member_examples_per_s"] == pytest.approx(aggregate / 4)
    assert line.startswith("group 1/1 (vmapped, 4 members): 24 steps each, trained in ")
    assert f"{aggregate:,.0f} examples/s aggregate ({aggregate / 4:,.0f} per member)" in line
    assert "4.0/4 members" in err  # the bar on stderr ends full
    members = expand(c, ["elbo.beta=0.5,4"], 2)
    finals = []
    for m in members[1:3]:  # one of each beta, seeds 1 and 0
        alone = tmp_path / f"alone_{m.name}"
        train(m.config, alone)
        swept = tmp_path / "sweep" / m.name
        ref = load_trained(alone).state.params
        got = load_trained(swept).state.params
        np.testing.assert_allclose(_flat(got), _flat(ref), rtol=2e-4, atol=2e-5)
        curve = [r["loss"] for r in _jsonl(swept / "metrics.jsonl")]
        ref_curve = [r["loss"] for r in _jsonl(alone / "metrics.jsonl")]
        assert len(curve) == len(ref_curve) == 3
        np.testing.assert_allclose(curve, ref_curve, rtol=1e-5)
        finals.append(curve[-1])
    # Different betas really trained differently (the hparams reached each member).
    assert abs(finals[0] - finals[1]) > 1e-3

    rows = list(csv.DictReader(open(tmp_path / "sweep" / "sweep.csv")))
    assert len(rows) == 4
    md = (tmp_path / "sweep" / "sweep.md").read_text()
    for beta in ("0.5", "4"):
        losses = [float(r["test_neg_elbo_nats"]) for r in rows if r["elbo.beta"] == beta]
        mean, std = statistics.mean(losses), statistics.stdev(losses)
        assert f"{mean:.4g} ± {std:.2g}" in md
    assert (tmp_path / "sweep" / "sweep_plots.png").stat().st_size > 0
    assert (tmp_path / "sweep" / "sweep.html").read_text().count("data:image/png;base64,") == 1
    ev = json.loads((tmp_path / "sweep" / members[0].name / "eval.json").read_text())
    assert np.isfinite(ev["test_iwae_nll_nats"]) and ev["iwae_k"] == 4
    # The quick profile (its IWAE subset of 1000 covers these 64 images), K from --iwae_k.
    assert ev["profile"]["name"] == "quick" and ev["profile"]["overridden"] == ["iwae_k"]
    assert ev["test_iwae_num_examples"] == ev["num_test"] == 64


def test_a_swept_length_replaces_the_other_length():
    c = tiny_config(**{"train.num_steps": 0, "train.num_epochs": 2})
    members = expand(c, ["train.num_steps=8,16"], 1)
    lengths = [(m.config.train.num_steps, m.config.train.num_epochs) for m in members]
    assert lengths == [(8, 0), (16, 0)]
    assert (c.train.num_steps, c.train.num_epochs) == (0, 2)  # the base config is untouched
    steps = tiny_config()  # num_steps=40
    members = expand(steps, ["train.num_epochs=1"], 1)
    assert (members[0].config.train.num_steps, members[0].config.train.num_epochs) == (0, 1)
    # Both swept: nothing is cleared, and building the member refuses it.
    both = expand(c, ["train.num_steps=8", "train.num_epochs=1"], 1)[0].config
    assert (both.train.num_steps, both.train.num_epochs) == (8, 1)
    with pytest.raises(ConfigError, match="exactly one of train.num_steps"):
        build.build_experiment(both, (16, 16, 1), 512)


def test_sweep_command_takes_a_length_override_and_evaluates_quick(tmp_path):
    # A config file that trains for epochs; the command line asks for 8 steps.
    config = tmp_path / "epochs.py"
    config.write_text(
        "from conftest import tiny_config\n\n\ndef get_config():\n"
        "    return tiny_config(**{'train.num_steps': 0, 'train.num_epochs': 2})\n"
    )
    proc = subprocess.run(
        [
            PYTHON,
            "scripts/sweep.py",
            f"--config={config}",
            f"--workdir={tmp_path / 'sweep'}",
            "--sweep=elbo.beta=1",
            "--config.train.num_steps=8",
        ],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    member = tmp_path / "sweep" / "beta=1_seed=0"
    assert json.loads((member / "summary.json").read_text())["step"] == 8
    ev = json.loads((member / "eval.json").read_text())
    # quick: K = min(100, eval.iwae_k = 8); IWAE on min(1000, 128) test images
    assert ev["profile"] == {
        "name": "quick",
        "settings": {"iwae_k": 8, "iwae_num_test": 1000},
        "overridden": [],
    }
    assert ev["iwae_k"] == 8 and ev["test_iwae_num_examples"] == 128


def _fake_member(d, *, group, steps, per_member, beta_loss):
    """A member directory as run_sweep leaves it (summary.json and eval.json only)."""
    d.mkdir(parents=True)
    summary = {
        "step": steps,
        "wall_time_s": 10.0,
        "examples_per_s": per_member,
        "final_train_metrics": {"loss": beta_loss},
    }
    if len(group) > 1:
        summary.update(
            vmap_group_size=len(group),
            vmap_group_members=group,
            group_examples_per_s=per_member * len(group),
            compile_s=2.0,
        )
    (d / "summary.json").write_text(json.dumps(summary))
    (d / "eval.json").write_text(json.dumps({"test_neg_elbo_nats": beta_loss}))


def test_sweep_table_labels_per_member_and_aggregate_throughput(tmp_path):
    vmapped = ["elbo.beta=1_seed=0", "elbo.beta=1_seed=1"]
    rows = []
    for i, name in enumerate(vmapped):
        _fake_member(tmp_path / name, group=vmapped, steps=100, per_member=500.0, beta_loss=50 + i)
        rows.append(report.member_row(name, {"elbo.beta": 1, "seed": i}, tmp_path / name))
    alone = "elbo.beta=8_seed=0"
    _fake_member(tmp_path / alone, group=[alone], steps=100, per_member=900.0, beta_loss=60)
    rows.append(report.member_row(alone, {"elbo.beta": 8, "seed": 0}, tmp_path / alone))
    report.write_reports(rows, ["elbo.beta"], tmp_path)

    assert report.throughput_rows(rows) == [
        [vmapped[0], 2, 100, 10.0, 2.0, 1000.0, 500.0],
        [alone, 1, 100, 10.0, None, 900.0, 900.0],
    ]
    md = (tmp_path / "sweep.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| group (first member)"))
    assert "| aggregate examples/s | per-member examples/s |" in header
    assert f"| {vmapped[0]} | 2 | 100 | 10.0 | 2.0 | 1,000 | 500 |" in md
    assert f"| {alone} | 1 | 100 | 10.0 | - | 900 | 900 |" in md
    # (1000 + 900) examples/s aggregate, 10 s of training each, 20 s in all
    assert "19,000 training examples in 20.0 s of training = 950 examples/s aggregate" in md
    # Throughput is not averaged over seeds into the metric table: it has its own.
    metric_rows = md[: md.index("## Throughput")]
    assert "examples_per_s" not in metric_rows and "| test_neg_elbo_nats |" in metric_rows
    assert "| 50.5 ± 0.71 | 60 ± 0 |" in md
    columns = next(csv.reader(open(tmp_path / "sweep.csv")))
    assert {"examples_per_s_per_member", "examples_per_s_group_aggregate"} <= set(columns)


@pytest.mark.parametrize(
    "values, log",
    [([1, 2, 4, 8], True), ([1e-4, 1e-3, 1e-2], True), ([1, 2, 3, 4], False),
     ([0, 1, 2], False), ([0.5, 4], False), ([0.1, 10], True), (["a", "b"], False)],
)  # fmt: skip
def test_log_axis_for_log_spaced_values(values, log):
    assert report.log_spaced(values) is log


def _leaves(tree):
    import jax

    return jax.tree_util.tree_leaves(tree)


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(x)) for x in _leaves(tree)])


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ctrl_c_in_a_member_saves_it_and_stops_the_sweep(tmp_path, monkeypatch):
    import signal

    from aejax.errors import StoppedBySignal

    c = tiny_config(**{"train.num_steps": 24, "train.log_every": 8, "data.shapes.num_test": 64})
    members = expand(c, ["elbo.beta=0.5,4"], 1)
    sweep = tmp_path / "sweep"
    # Ctrl-C inside the first member's chunk 8 -> 16 (chunks of 8 steps, logged every 8).
    monkeypatch.setenv("AEJAX_DEBUG_SIGNAL_AT", "9:SIGINT")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # also in a background job
    try:
        with pytest.raises(StoppedBySignal) as stop:
            run_sweep(c, ["elbo.beta=0.5,4"], 1, sweep, use_vmap=False, iwae_k=4)
    finally:
        signal.signal(signal.SIGINT, previous)
    first = sweep / members[0].name
    assert str(stop.value) == (
        f"stopped by SIGINT at step 16 of member {members[0].name}; the checkpoint at that step "
        "is committed; rerun the same command to continue"
    )
    assert json.loads((first / "summary.json").read_text())["step"] == 16
    assert not (first / "eval.json").exists()  # an unfinished member is not evaluated
    assert not (sweep / members[1].name).exists() and not (sweep / "sweep.json").exists()

    monkeypatch.delenv("AEJAX_DEBUG_SIGNAL_AT")
    info = run_sweep(c, ["elbo.beta=0.5,4"], 1, sweep, use_vmap=False, iwae_k=4)
    assert info["members"] == [m.name for m in members]
    summary = json.loads((first / "summary.json").read_text())
    assert (summary["resumed_from_step"], summary["step"]) == (16, 24)
    assert all((sweep / m.name / "eval.json").exists() for m in members)
