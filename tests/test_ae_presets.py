"""The deterministic-AE variants of experiments/ae_mnist.py: the files they replaced give the same
configs, an unknown variant names the valid ones, and every variant builds."""

from __future__ import annotations

import importlib
import re

import pytest

from aejax import build
from aejax.models.heads import DeltaPosteriorHead
from experiments import ae_mnist, vae_mnist

# old file -> its variant
SHIMS = {
    "ae_undercomplete_mnist": "undercomplete",
    "ae_complete_mnist": "complete",
    "ae_overcomplete_mnist": "overcomplete",
    "dae_mnist": "denoising",
    "sparse_ae_mnist": "sparse",
    "sparse_l1_ae_mnist": "sparse_l1",
    "cae_mnist": "contractive",
}

VARIANTS = sorted(set(ae_mnist.VARIANTS) - {""})


def test_every_variant_has_a_file_and_the_default_is_undercomplete():
    assert set(SHIMS.values()) == set(ae_mnist.VARIANTS) - {""} == set(VARIANTS)
    assert ae_mnist.get_config().to_dict() == ae_mnist.get_config("undercomplete").to_dict()


@pytest.mark.parametrize("name", sorted(SHIMS))
def test_an_old_file_gives_its_variant(name):
    old = importlib.import_module(f"experiments.{name}").get_config()
    assert old.to_dict() == ae_mnist.get_config(SHIMS[name]).to_dict()


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variant_sets_only_keys_the_base_config_has(variant):
    # update_from_flattened_dict would add a misspelt key silently.
    base = vae_mnist.get_config()
    for key in ae_mnist.VARIANTS[variant]:
        group, leaf = key.rsplit(".", 1)
        assert leaf in base[group], key


def test_an_unknown_variant_names_the_valid_ones():
    choices = "undercomplete, complete, overcomplete, denoising, sparse, sparse_l1, contractive"
    with pytest.raises(ValueError) as raised:
        ae_mnist.get_config("nope")
    assert (
        str(raised.value)
        == f"experiments/ae_mnist.py:nope: no such variant; choose one of {choices}"
    )
    # the same kind of error as vae_mnist's
    with pytest.raises(
        ValueError, match=re.escape("experiments/vae_mnist.py:nope: no such variant")
    ):
        vae_mnist.get_config("nope")


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_builds(variant):
    config = ae_mnist.get_config(variant)
    exp = build.build_experiment(config, (28, 28, 1), 60000)
    assert config.objective.name == "reconstruction"
    assert isinstance(exp.model.posterior_head, DeltaPosteriorHead)
    assert exp.model.posterior_head.latent_dim == ae_mnist.VARIANTS[variant]["model.latent_dim"]
    assert exp.binarize == "none"
    # the variant's regulariser reaches the step as hparams (the corruption kind is static)
    weights = {
        k.split(".")[1]: v
        for k, v in ae_mnist.VARIANTS[variant].items()
        if k.startswith("objective.") and k != "objective.corruption"
    }
    assert {k: v for k, v in exp.hparams.items() if k != "learning_rate"} == weights
