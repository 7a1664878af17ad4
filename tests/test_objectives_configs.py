"""Objective configs: every experiment builds, and bad objective settings give one clear line."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import REPO, tiny_config

from aejax import build
from aejax.errors import ConfigError

EXPERIMENTS = sorted(
    p for p in (REPO / "experiments").glob("*.py") if "def get_config" in p.read_text()
)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_experiment_config_builds(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    shape = (28, 28, 1)
    if config.data.name == "moving_sprites" and not config.data.moving_sprites.frames:
        ms = config.data.moving_sprites
        shape = (ms.num_frames, ms.resolution, ms.resolution, 1)
    exp = build.build_experiment(config, shape, 60000)
    assert set(exp.hparams) >= {"learning_rate"}
    if config.objective.name == "beta_tcvae":
        assert exp.hparams["dataset_size"] == 60000.0


@pytest.mark.parametrize(
    "overrides, needles",
    [
        ({"objective.name": "iwae", "model.posterior": "delta"}, ["iwae", "gaussian"]),
        ({"objective.free_bits_groups": 3}, ["free_bits_groups=3", "latent width 4"]),
        ({"objective.kl_schedule": "cosine"}, ["kl_schedule", "cyclical"]),
        ({"objective.kl_schedule": "cyclical", "objective.kl_cycle_ratio": 1.5}, ["ratio"]),
        ({"objective.kl_schedule": "linear", "objective.kl_warmup_steps": 0}, ["warmup"]),
        ({"objective.name": "iwae", "objective.num_samples": 0}, ["num_samples", ">= 1"]),
        ({"objective.corruption": "salt"}, ["corruption", "masking"]),
        ({"objective.name": "factor_vae", "objective.corruption": "masking"}, ["factor_vae"]),
        ({"objective.sparsity_weight": 1.0, "objective.sparsity_target": 1.0}, ["sparsity_target"]),
        ({"objective.mmd_weight": 1.0, "objective.mmd_kernel": "laplace"}, ["imq", "rbf"]),
        ({"objective.name": "beta_tcvae", "objective.tc_estimator": "x"}, ["mss", "mws"]),
        ({"objective.l1_weight": -1.0}, ["l1_weight", ">= 0"]),
        (
            {"objective.contractive_weight": 0.1, "model.encoder.norm": "batch"},
            ["contractive_weight", "norm='batch'", "'layer' or 'group'"],
        ),
    ],
)
def test_bad_objective_settings_name_the_key(overrides, needles):
    with pytest.raises(ConfigError) as err:
        build.build_experiment(tiny_config(**overrides), (8, 8, 1), 256)
    for needle in needles:
        assert needle in str(err.value)


def test_extra_terms_are_compiled_in_only_when_weighted():
    _, plain = build.build_objective(tiny_config(), 256)
    _, info = build.build_objective(tiny_config(**{"objective.mmd_weight": 2.0}), 256)
    assert "mmd_weight" not in plain and info["mmd_weight"] == 2.0 and "mmd_scale" in info
