"""The disentanglement study's grid (experiments/study_locatello.py) is Locatello et al.'s, and
every one of its members is a valid config in both variants."""

from __future__ import annotations

import pytest

from aejax import build
from experiments import study_locatello as study

# Locatello et al. (2019), Table 1 / Appendix: the hyperparameter values of each method.
PAPER = {
    "beta_vae": [1, 2, 4, 6, 8, 16],
    "annealed_vae": [5, 10, 25, 50, 75, 100],
    "factor_vae": [10, 20, 30, 40, 50, 100],
    "dip_vae_i": [1, 2, 5, 10, 20, 50],
    "dip_vae_ii": [1, 2, 5, 10, 20, 50],
    "beta_tcvae": [1, 2, 4, 6, 8, 10],
}


def test_the_grid_is_the_papers():
    assert {m: list(s["values"]) for m, s in study.METHODS.items()} == PAPER
    assert study.member_overrides("dip_vae_i", 5)["objective.dip_lambda_d"] == 50.0
    assert study.member_overrides("dip_vae_ii", 5)["objective.dip_lambda_d"] == 5.0
    assert study.get_config().capacity_vae.weight != 1000.0  # gamma is the method's, not shared
    assert study.member_overrides("annealed_vae", 25)["capacity_vae.weight"] == 1000.0


@pytest.mark.parametrize("variant", ["", "cpu"])
def test_every_member_builds(variant):
    base = study.get_config(variant)
    assert tuple(base.study.methods) == tuple(PAPER) and base.study.seeds >= 2
    resolution = base.data.shapes.resolution
    for method, spec in study.METHODS.items():
        for value in spec["values"]:
            config = study.get_config(variant)
            for key, setting in study.member_overrides(method, value).items():
                group, name = key.rsplit(".", 1)
                node = config
                for part in group.split("."):
                    node = node[part]
                assert name in node, key  # an existing key, not a new one
                node[name] = setting
            exp = build.build_experiment(config, (resolution, resolution, 1), 10_000)
            assert exp.hparams["learning_rate"] == base.optimizer.learning_rate
