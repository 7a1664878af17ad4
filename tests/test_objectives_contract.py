"""One contract for every registered objective, extra term and corruption.

Each case builds its objective from a config the way training does, then checks: every term is
``[B]`` and finite; gradients are finite; the objective jits and ``vmap``s over a stacked hparams
dict; one compilation serves several steps with different hparam values; terms that do not read
an hparam agree across the vmapped rows (same key), and the loss moves when its hparams move.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.objectives.regularizers import CORRUPTIONS
from aejax.train.rng import named_keys
from aejax.train.run import init_state
from aejax.train.step import make_train_step

SHAPE = (8, 8, 1)
B = 16
SMALL = {"model.latent_dim": 4, "model.critic.hidden": (16,), "model.classifier.hidden": (16,)}
DELTA = {"model.posterior": "delta"}

# Each case composes several pieces so that every registered name, extra term, schedule and
# corruption is covered with few compilations.
RECON = {"objective.name": "reconstruction"}
CASES = {
    "elbo_warmup_free_bits": {
        "elbo.beta": 2.0,
        "elbo.kl_schedule": "linear",
        "elbo.kl_warmup_steps": 10,
        "elbo.free_bits": 0.5,
        "elbo.free_bits_groups": 2,
    },
    "dip_vae_i_cyclical": {
        "elbo.kl_schedule": "cyclical",
        "elbo.kl_cycle_steps": 6,
        "objective.dip_lambda_od": 10.0,
        "objective.dip_lambda_d": 100.0,
    },
    "dip_vae_ii_masking": {
        "objective.dip_type": "ii",
        "objective.dip_lambda_od": 10.0,
        "objective.corruption": "masking",
    },
    "info_vae_rbf": {
        "objective.mmd_weight": 100.0,
        "elbo.beta": 0.5,
        "objective.mmd_kernel": "rbf",
    },
    "sparse_denoising_ae": {
        **RECON,
        **DELTA,
        "objective.l1_weight": 0.1,
        "objective.sparsity_weight": 1.0,
        "objective.corruption": "gaussian",
    },
    "contractive_ae": {**RECON, "objective.contractive_weight": 0.1},
    "capacity_vae": {"objective.name": "capacity_vae", "capacity_vae.capacity_steps": 10},
    "iwae": {"objective.name": "iwae", "iwae.num_samples": 3},
    "beta_tcvae": {"objective.name": "beta_tcvae", "beta_tcvae.tc_weight": 6.0},
    "wae_mmd": {"objective.name": "wae_mmd", "wae_mmd.weight": 10.0, **DELTA},
    "factor_vae": {"objective.name": "factor_vae"},
    "wae_gan": {"objective.name": "wae_gan"},
    "m2": {
        "objective.name": "m2",
        "model.num_classes": 3,
        "data.num_labelled": 6,
        "data.labelled_batch_size": 6,
    },
}


@pytest.fixture(autouse=True)
def _fast_compile():
    """These tests check shapes, tracing and finiteness, not speed: skip XLA's optimisation
    passes, which dominate their run time, and restore the setting afterwards."""
    before = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def _config(case):
    return tiny_config(**{**SMALL, "train.batch_size": B, **CASES[case]})


def test_cases_cover_every_registered_objective_term_and_corruption():
    # Names that share a function (aae and wae_gan) are covered by one case.
    covered = {build.OBJECTIVES[_config(c).objective.name].fn for c in CASES}
    assert covered == {spec.fn for spec in build.OBJECTIVES.values()}
    weights = {k for c in CASES for k, v in CASES[c].items() if v}
    for term in build.EXTRA_TERMS.values():
        assert any(f"objective.{w}" in weights for w in term.weights)
    used = {_config(c).objective.corruption for c in CASES}
    assert used == set(CORRUPTIONS)


def _setup(case, key):
    config = _config(case)
    exp = build.build_experiment(config, SHAPE, 256)
    state = init_state(exp, SHAPE, key)
    rng = np.random.default_rng(0)
    batch = {
        "image": jnp.asarray(rng.random((B, *SHAPE)) > 0.5, jnp.float32),
        "label": jnp.asarray(rng.integers(0, 3, B), jnp.int32),
        "labelled_image": jnp.asarray(rng.random((6, *SHAPE)) > 0.5, jnp.float32),
        "labelled_label": jnp.asarray(np.arange(6) % 3, jnp.int32),
    }
    return exp, state, batch


def _moved(hp: dict[str, float]) -> dict[str, float]:
    """Every hparam changed while staying valid (rates and fractions stay inside (0, 1))."""
    fractions = ("kl_cycle_ratio", "sparsity_target", "mask_prob", "labelled_weight")
    return {
        k: v * (0.5 if k in fractions else 1.5) + (0.0 if k in fractions else 0.25)
        for k, v in hp.items()
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_objective_contract(case, key):
    exp, state, batch = _setup(case, key)
    hp0 = build.hparams_as_arrays(exp.hparams)
    hp1 = build.hparams_as_arrays(_moved(exp.hparams))
    stacked = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), hp0, hp1)
    traces = []

    def run(params, hparams, step, obj_key):
        traces.append(1)

        def one(hp):
            def mean_loss(p):
                out = exp.model.apply(
                    {"params": p}, batch, obj_key, hp, step=step, train=True, method=exp.objective
                )
                return out.loss.mean(), out

            (_, out), grads = jax.value_and_grad(mean_loss, has_aux=True)(params)
            return out, grads

        return jax.vmap(one)(hparams)

    run = jax.jit(run)
    obj_key = named_keys(0)["train"]
    with jax.debug_key_reuse(True):
        for step in (0, 3, 7):
            hp = jax.tree_util.tree_map(lambda a, s=step: a * (1 + 0.1 * s), stacked)
            out, grads = run(state.params, hp, jnp.int32(step), jax.random.fold_in(obj_key, step))
    assert len(traces) == 1, "a new hparam value or step recompiled the objective"

    out, grads = run(state.params, stacked, jnp.int32(5), jax.random.fold_in(obj_key, 5))
    assert out.loss.shape == (2, B)
    for name, term in out.terms.items():
        assert term.shape == (2, B), name
        assert np.all(np.isfinite(term)), name
    assert np.all(np.isfinite(out.loss))
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))
    if out.aux_loss is not None:
        assert out.aux_loss.shape == (2, B)
    # Without corruption the reconstruction reads no hparam: same key, same value in both rows.
    if "recon" in out.terms and exp.hparams.keys().isdisjoint({"noise_std", "mask_prob"}):
        np.testing.assert_allclose(out.terms["recon"][0], out.terms["recon"][1], rtol=1e-6)
    weighted = set(exp.hparams) - {"learning_rate", "critic_learning_rate", "dataset_size"}
    if weighted:
        assert not np.allclose(out.loss[0], out.loss[1]), "the loss ignores its hparams"


def test_train_step_vmaps_over_stacked_hparams_with_one_compile(key):
    exp, state, batch = _setup("dip_vae_i_cyclical", key)
    step = make_train_step(exp.model, exp.objective, exp.tx)
    traces = []

    def counted(s, b, k, h):
        traces.append(1)
        return step(s, b, k, h)

    vstep = jax.jit(jax.vmap(counted, in_axes=(0, None, None, 0)))
    hp = build.hparams_as_arrays(exp.hparams)
    grid = {k: jnp.stack([v, v * 2.0]) for k, v in hp.items()}
    states = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), state)
    train_key = named_keys(0)["train"]
    for _ in range(3):
        states, metrics = vstep(states, batch, train_key, grid)
    assert len(traces) == 1
    assert metrics["loss"].shape == (2,) and bool(metrics["finite"].all())
    # Row 0 of the vmapped run is the unvmapped run with row 0's hparams.
    single, m0 = state, None
    jstep = jax.jit(step)
    for _ in range(3):
        single, m0 = jstep(single, batch, train_key, hp)
    np.testing.assert_allclose(metrics["loss"][0], m0["loss"], rtol=1e-5)
    row0 = jax.tree_util.tree_map(lambda a: a[0], states.params)
    for a, b in zip(
        jax.tree_util.tree_leaves(row0), jax.tree_util.tree_leaves(single.params), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not np.allclose(metrics["loss"][0], metrics["loss"][1])
