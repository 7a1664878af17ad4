"""scripts/check_hashes.py without training: its command lines set every config key, so they
rebuild each case's config even from changed defaults, and the comparison flags a changed hash."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest
from absl import flags
from conftest import PYTHON, REPO, script_env
from ml_collections import config_flags


@pytest.fixture(scope="module")
def script():
    """``scripts/check_hashes.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        "check_hashes", REPO / "scripts" / "check_hashes.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


# A base config whose defaults differ from aejax/defaults.py in keys of every type.
CHANGED_DEFAULTS = """
from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.seed = 7
    c.data.name = "shapes"
    c.data.binarize = "static"
    c.model.encoder.hidden = (3, 4)
    c.model.ladder.latent_dims = (5,)
    c.elbo.beta = 0.25
    c.optimizer.eps = 1e-3
    c.train.progress = True
    c.train.num_epochs = 9
    c.graph.features = False
    return c
"""


def _parse(config_file, args: list[str]):
    """The config ``scripts/train.py`` would get from ``--config=config_file *args``."""
    values = flags.FlagValues()
    argv = ["train.py", f"--config={config_file}", *args]
    config_flags.DEFINE_config_file("config", None, flag_values=values, sys_argv=argv)
    values(argv)
    return values.config


@pytest.mark.parametrize("name", ["vae_mnist", "ladder_mnist", "conv_vae", "vgae_cora"])
def test_command_line_rebuilds_the_case_config_from_changed_defaults(script, name, tmp_path):
    base = tmp_path / "changed_defaults.py"
    base.write_text(CHANGED_DEFAULTS)
    entry = script.build_entry(name)
    overrides = [a for a in entry["argv"] if a.startswith("--config.")]
    got = script.flat_config(json.loads(_parse(base, overrides).to_json_best_effort()))
    want = script.flat_config(
        json.loads(script.case_config(script.CASES[name]).to_json_best_effort())
    )
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
    assert want["train.num_steps"] == 300 and want["train.num_epochs"] == 0
    assert want["train.progress"] is False
    # A key without a command-line form is listed, not silently dropped.
    assert entry["unset_keys"] == {k: None for k, v in want.items() if v is None}
    assert len(overrides) + len(entry["unset_keys"]) == len(want)


def test_every_case_has_a_complete_command_line(script):
    for name, case in script.CASES.items():
        entry = script.build_entry(name)
        assert entry["argv"][:5] == [
            case.script,
            "--config",
            f"experiments/{case.experiment}.py",
            "--workdir",
            script.WORKDIR,
        ]
        config = script.flat_config(json.loads(script.case_config(case).to_json_best_effort()))
        assert script.config_differences(entry, config) == [], name
    assert script.build_entry("vgae_cora")["argv"].count("--config.graph.num_runs=1") == 1
    sweep = script.build_entry("sweep_vae_mnist")["argv"]
    assert script.swept_keys(sweep) == ("objective.beta",)


def test_config_differences_name_changed_added_and_missing_keys(script):
    entry = script.build_entry("vae_mnist")
    config = script.case_config(script.CASES["vae_mnist"])
    written = json.loads(config.to_json_best_effort())
    written["elbo"]["beta"] = 2.0
    written["model"]["encoder"]["hidden"] = [400]
    written["data"]["dir"] = "/elsewhere"
    written["train"]["new_key"] = 1
    del written["seed"]
    assert script.config_differences(entry, written) == [
        "data.dir: asked None, got /elsewhere",
        "elbo.beta: asked 1.0, got 2.0",
        "model.encoder.hidden: asked (500,), got (400,)",
        "seed: asked 0, got absent",
        "train.new_key: asked absent, got 1",
    ]
    ignored = ("elbo.beta", "seed", "model.encoder.hidden", "data.dir", "train.new_key")
    assert script.config_differences(entry, written, ignore=ignored) == []


def test_compare_reports_changed_and_missing_hashes(script):
    a, b = "a" * 64, "b" * 64
    assert script.compare({"params": a}, {"params": a}) == "same"
    assert script.compare({"params": a}, {"params": b}) == f"DIFFERENT (expected {a}, got {b})"
    assert script.compare({"params": a}, {}) == f"DIFFERENT (expected {a}, got None)"
    members = {"beta=1_seed=0": a, "beta=4_seed=0": a}
    assert script.compare(members, dict(members)) == "same"
    line = script.compare(members, {"beta=1_seed=0": a, "beta=4_seed=0": b})
    assert line == f"DIFFERENT (beta=4_seed=0: expected {a}, got {b})"
    line = script.compare(members, {"beta=1_seed=0": a})
    assert line == f"DIFFERENT (beta=4_seed=0: expected {a}, got None)"


def test_format_value_writes_what_the_flag_parsers_read_back(script):
    assert script.format_value(()) == "()"
    assert script.format_value((500,)) == "(500,)"
    assert script.format_value(1e-8) == "1e-08"
    assert script.format_value(False) == "False"
    assert script.format_value("planetoid:cora") == "planetoid:cora"
    with pytest.raises(TypeError):
        script.format_value(None)


def test_recorded_hashes_file_is_complete(script):
    path = REPO / "docs" / "redesign_hashes.json"
    stored = json.loads(path.read_text())
    assert "--check" in stored["command"]
    assert stored["machines"]
    for key, record in stored["machines"].items():
        assert key == script.machine_key(record["recorded"])  # --check finds it by its facts
        assert set(record["cases"]) == set(script.CASES), key
        for name, entry in record["cases"].items():
            assert entry["argv"][0] in script.TRAIN_SCRIPTS, name
            assert script.WORKDIR in entry["argv"], name
            assert f"--config.train.num_steps={script.STEPS}" in entry["argv"], name
            assert entry["hashes"], name
            assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in entry["hashes"].values()), name
        assert len(record["cases"]["sweep_vae_mnist"]["hashes"]) == 4


def _recorded(simd: str, jax_version: str = "0.10.2") -> dict:
    cpu = {"model name": "AMD EPYC", "cpu family": "25", "model": "1", "stepping": "1"}
    return {"cpu": {**cpu, "simd": simd}, "jax": jax_version, "cpu_count": 2}


def test_machine_key_separates_what_changes_the_compiled_code(script):
    base = script.machine_key(_recorded("fma avx avx2"))
    assert base == "AMD EPYC, family 25 model 1, simd fma avx avx2, jax 0.10.2"
    assert script.machine_key(_recorded("fma avx avx2 avx512f")) != base
    assert script.machine_key(_recorded("fma avx avx2", "0.10.3")) != base
    # Facts that do not change XLA's code are not in the key.
    assert script.machine_key({**_recorded("fma avx avx2"), "cpu_count": 16}) == base


def test_machine_records_reads_the_one_machine_form(script):
    old = {"recorded": _recorded("avx2"), "cases": {"vae_mnist": {"hashes": {}}}}
    records = script.machine_records(old)
    assert records == {script.machine_key(old["recorded"]): {k: old[k] for k in old}}
    assert script.machine_records({"machines": records}) == records
    assert script.machine_records(None) == {}


def test_check_refuses_in_one_line_without_a_record_for_this_machine(tmp_path):
    other = _recorded("none of this machine's", "0.0.0")
    hashes = tmp_path / "hashes.json"
    hashes.write_text(json.dumps({"machines": {"elsewhere": {"recorded": other, "cases": {}}}}))
    proc = subprocess.run(
        [PYTHON, str(REPO / "scripts" / "check_hashes.py"), "--check", "--hashes", str(hashes)],
        env=script_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and proc.stdout == ""
    line = proc.stderr.strip()
    assert "\n" not in line and "holds no hashes for this machine" in line
    assert "pre-redesign commit with --record" in line
