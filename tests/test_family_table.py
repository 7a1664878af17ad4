"""The model-family table: rows resolve to configs, expectations are judged correctly."""

from __future__ import annotations

import importlib

import pytest

from aejax.evaluation import family
from experiments.family import EXPECTATIONS, PUBLISHED, ROWS


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_row_names_a_config_and_overrides_existing_keys(name):
    row = ROWS[name]
    config = importlib.import_module(f"experiments.{row['experiment']}").get_config()
    for key in row.get("overrides", {}):
        target = config
        *parents, leaf = key.split(".")
        for p in parents:
            target = target[p]
        assert leaf in target, f"{name}: override {key} names no existing config key"
    assert row["kind"] in family.KINDS


def test_expectations_refer_to_rows_of_the_right_kind():
    for spec in EXPECTATIONS:
        assert spec["row"] in ROWS
        assert ("than" in spec) != ("value" in spec)
        if "than" in spec:
            assert spec["than"] in ROWS


def _result(kind="vae", **metrics):
    return {"kind": kind, "settings": {"epochs": 3, "iwae_k": 50, "num_test": 100}, **metrics}


def test_check_compares_rows_values_and_reports_missing_rows():
    lower = dict(text="a below b", row="a", op="<", than="b", metric="nll")
    results = {"a": _result(nll=90.0), "b": _result(nll=95.0)}
    assert family.check(results, lower) == "yes"
    assert family.check({"a": _result(nll=96.0), "b": _result(nll=95.0)}, lower) == "NO"
    assert family.check({"a": _result(nll=90.0)}, lower) == "not run"
    # a second metric of the same row, and a fixed threshold (>= is inclusive)
    other = dict(text="x", row="m", op="<", than="m", metric="err", than_metric="alone")
    assert family.check({"m": _result("m2", err=0.2, alone=0.3)}, other) == "yes"
    assert family.check({"m": _result("m2", err=0.3, alone=0.2)}, other) == "NO"
    at_least = dict(text="y", row="c", op=">=", value=0.9, metric="acc")
    assert family.check({"c": _result("cvae", acc=0.9)}, at_least) == "yes"
    assert family.check({"c": _result("cvae", acc=0.89)}, at_least) == "NO"


def test_render_lists_only_rows_with_results_and_judges_each_expectation():
    results = {
        "vae": _result(iwae_nll_nats=96.5, neg_elbo_nats=102.2, kl_nats=26.3, active_units=20),
        "iwae": _result(iwae_nll_nats=95.1, neg_elbo_nats=103.0, kl_nats=28.0, active_units=20),
        "dae": _result("ae", recon_nats=60.0, recon_mse=0.01, denoise_masking_ratio=0.4),
    }
    text = family.render_table(ROWS, results, PUBLISHED, EXPECTATIONS, command="cmd --x")
    assert "`cmd --x`" in text and "3 epochs" in text and "K=50" in text
    assert "| vae | " in text and "| iwae | " in text and "| dae | " in text
    assert "| vamp | " not in text  # no result, no row
    assert "without results at this budget yet: beta_vae" in text
    verdicts = {
        line[2:-2].split(" | ")[0]: line[2:-2].split(" | ")[1]
        for line in text.splitlines()
        if line.startswith("| ") and line.endswith(" |") and " | " in line
    }
    assert verdicts["IWAE below the plain VAE (test NLL)"] == "yes"
    assert verdicts["VampPrior below the plain VAE"] == "not run"
    assert verdicts["denoising AE maps masked inputs towards the clean ones (ratio < 1)"] == "yes"
    for p in PUBLISHED:
        assert p["source"] in text
