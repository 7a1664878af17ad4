"""Configs per method: old keys move to their method's group with a one-line note (command line,
config file, sweep, saved config.json), a run's config keeps only the groups it uses, and the
variants of experiments/vae_mnist.py equal the files they replaced."""

from __future__ import annotations

import json

import pytest

from aejax import build, config_keys
from aejax.defaults import base_config, flatten
from aejax.objectives import OBJECTIVES
from aejax.train.manifest import config_differences
from aejax.train.restore import load_config
from experiments import factor_vae_mnist, vae_mnist, vgae_cora


def _flat(config) -> dict:
    return flatten(json.loads(config.to_json_best_effort()))


def test_every_objective_reads_keys_its_group_declares():
    config = base_config()
    for name, spec in OBJECTIVES.items():
        keys = [*spec.hparams, *(o.key for o in spec.options.values())]
        for key in keys:
            full = key if "." in key else f"{spec.group}.{key}"
            group, leaf = full.rsplit(".", 1)
            assert leaf in config[group], f"{name} reads {full}, which base_config lacks"


def test_old_command_line_keys_move_with_one_note_each(capsys):
    # What --config.objective.gamma=20.0 does to the locked config before the run settles it
    # (scripts/check_hashes.py --check runs the real command lines).
    config = factor_vae_mnist.get_config()
    config.lock()
    config.objective.gamma = 20.0
    config.objective.beta = 1.0  # the old default, not read by factor_vae: silent
    config.objective.lam = 3.0  # not read by factor_vae, not the default: a note
    build.settle_config(config)
    assert config.factor_vae.tc_weight == 20.0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "note: objective.gamma is now factor_vae.tc_weight for factor_vae; use "
        "--config.factor_vae.tc_weight=20.0",
        "note: objective.lam=3.0 ignored: objective.name='factor_vae' does not read it (it is now "
        "wae_mmd.weight for wae_mmd, wae_gan.adversarial_weight for wae_gan, "
        "aae.adversarial_weight for aae)",
    ]
    assert not any(k.startswith(("objective.gamma", "objective.beta")) for k in _flat(config))


def test_an_unknown_variant_names_the_valid_ones():
    assert vae_mnist.get_config("beta4").elbo.beta == 4.0
    with pytest.raises(ValueError, match="choose one of beta4"):
        vae_mnist.get_config("beta5")


# The files the variants replaced, as they were: vae_mnist plus these old-key lines.
OLD_FILES = {
    "beta4": {"objective.beta": 4.0},
    "warmup": {"objective.kl_schedule": "linear", "objective.kl_warmup_steps": 936},
    "cyclical": {
        "objective.kl_schedule": "cyclical",
        "objective.kl_cycle_steps": 1170,
        "objective.kl_cycle_ratio": 0.5,
    },
    "free_bits": {"objective.free_bits": 0.25, "objective.free_bits_groups": 0},
}


@pytest.mark.parametrize("variant", sorted(OLD_FILES))
def test_a_variant_equals_the_file_it_replaced(variant):
    old = vae_mnist.get_config()
    old.update_from_flattened_dict(OLD_FILES[variant])
    build.settle_config(old, quiet=True)
    new = vae_mnist.get_config(variant)
    build.settle_config(new, quiet=True)
    assert _flat(new) == _flat(old)


def test_a_run_keeps_only_the_groups_it_uses():
    vae = vae_mnist.get_config()
    build.settle_config(vae)
    assert set(vae) >= {"elbo", "objective", "model", "optimizer", "data", "train"}
    assert not {"graph", "factor_vae", "m2", "iwae", "wae_mmd", "aae"} & set(vae)
    assert "critic" not in vae.model and "classifier" not in vae.model
    assert "critic" not in vae.optimizer
    factor = factor_vae_mnist.get_config()
    build.settle_config(factor)
    assert "factor_vae" in factor and "elbo" not in factor and "graph" not in factor
    assert "critic" in factor.model and "critic" in factor.optimizer
    graph = vgae_cora.get_config()
    build.settle_config(graph)
    assert "graph" in graph and "elbo" in graph


def test_a_saved_config_with_old_keys_loads_at_the_new_keys(tmp_path, capsys):
    saved = base_config()
    with saved.unlocked():
        del saved["elbo"]
    saved.objective.name = "elbo"
    saved.objective.beta = 4.0
    saved.objective.gamma = 10.0
    (tmp_path / "config.json").write_text(saved.to_json_best_effort())
    config = load_config(tmp_path)
    assert config.elbo.beta == 4.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "objective.beta is now elbo.beta" in err[0]


def test_an_old_manifest_compares_by_the_new_names():
    old = {"objective.name": "elbo", "objective.beta": 2.0, "graph.hidden": 32, "seed": 0}
    now = {"objective.name": "elbo", "elbo.beta": 2.0, "seed": 0}
    assert config_differences(old, now) == []
    assert config_differences(old, {**now, "elbo.beta": 1.0}) == ["elbo.beta"]


def test_a_swept_old_key_sweeps_its_new_key(capsys):
    from aejax.sweep.grid import expand

    members = expand(vae_mnist.get_config(), ["objective.beta=1,4"], 1)
    assert [m.config.elbo.beta for m in members] == [1, 4]
    assert [m.name for m in members] == ["beta=1_seed=0", "beta=4_seed=0"]
    assert "objective.beta is now elbo.beta" in capsys.readouterr().err


def test_new_key_leaves_unmoved_keys():
    assert config_keys.new_key("objective.lam", "aae") == "aae.adversarial_weight"
    assert config_keys.new_key("objective.mmd_weight", "elbo") == "objective.mmd_weight"
