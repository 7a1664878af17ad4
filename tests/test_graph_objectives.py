"""GAE/VGAE objectives against an independent numpy transcription of the reference cost."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from planetoid_files import sbm_graph

from aejax.data.edge_split import EdgeSplit, training_inputs
from aejax.models.graph import GraphAutoEncoder
from aejax.nn.graph import normalized_adjacency
from aejax.objectives import graph as objectives

N = 30


def _batch(features=None):
    _, edges = sbm_graph(N, 3, 0.3, 0.03, seed=4)
    empty = edges[:0]
    split = EdgeSplit(train=edges, val=empty, val_neg=empty, test=empty, test_neg=empty)
    return edges, jax.tree_util.tree_map(jnp.asarray, training_inputs(split, N, features))


def _reference_cost(z, edges):
    """Kipf & Welling's cost, written from the paper/reference description in float64:
    norm * mean(weighted sigmoid cross-entropy over all pairs of A + I)."""
    a = np.zeros((N, N))
    a[edges[:, 0], edges[:, 1]] = a[edges[:, 1], edges[:, 0]] = 1.0
    pos_weight = (N * N - a.sum()) / a.sum()
    norm = N * N / ((N * N - a.sum()) * 2)
    label = a + np.eye(N)
    logits = np.asarray(z, np.float64) @ np.asarray(z, np.float64).T
    log_sig, log_one_minus = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
    return norm * np.mean(-pos_weight * label * log_sig - (1 - label) * log_one_minus)


def test_dense_reconstruction_is_the_reference_cost():
    edges, batch = _batch()
    z = jax.random.normal(jax.random.key(1), (N, 4))
    per_node = objectives.reconstruction_per_node(z, batch, None, negatives=0)
    assert per_node.shape == (N,)
    np.testing.assert_allclose(per_node.mean(), _reference_cost(z, edges), rtol=1e-5)


def test_sampled_negatives_are_unbiased_for_the_dense_cost():
    edges, batch = _batch()
    z = jax.random.normal(jax.random.key(2), (N, 4))
    keys = jax.random.split(jax.random.key(3), 400)
    draws = jax.vmap(lambda k: objectives.reconstruction_per_node(z, batch, k, negatives=2).mean())(
        keys
    )
    standard_error = float(draws.std()) / np.sqrt(len(keys))
    assert standard_error > 0
    assert abs(float(draws.mean()) - _reference_cost(z, edges)) < 4 * standard_error


def test_softplus_and_its_gradient_match_jax():
    x = jnp.linspace(-60.0, 60.0, 2001)
    np.testing.assert_allclose(objectives.softplus(x), jax.nn.softplus(x), atol=1e-6)
    np.testing.assert_allclose(
        jax.vmap(jax.grad(objectives.softplus))(x), jax.nn.sigmoid(x), atol=1e-7
    )


@pytest.mark.parametrize("variational", [True, False])
def test_vgae_adds_kl_over_n_and_gae_has_none(variational):
    edges, batch = _batch(np.eye(N, 5, dtype=np.float32))
    model = GraphAutoEncoder(hidden=8, latent_dim=3, variational=variational)
    params = model.init(jax.random.key(0), batch["features"], batch["graph"])
    objective = objectives.negative_elbo if variational else objectives.reconstruction
    hparams = {"beta": jnp.asarray(0.7)}
    terms = model.apply(
        params, batch, jax.random.key(1), hparams, step=0, train=False, method=objective
    )
    q = model.apply(params, batch["features"], batch["graph"], method=model.encode)
    mean = np.asarray(q.mean(), np.float64)
    recon = _reference_cost(mean, edges)
    if not variational:
        assert set(terms.terms) == {"recon"}
        np.testing.assert_allclose(terms.loss.mean(), recon, rtol=1e-5)
        return
    log_var = np.asarray(q.log_var, np.float64)
    kl = 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=1)  # closed form [N]
    np.testing.assert_allclose(terms.terms["kl"], kl, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(terms.loss.mean(), recon + 0.7 * kl.mean() / N, rtol=1e-5)


def test_training_mode_samples_codes_from_the_key():
    _, batch = _batch(np.eye(N, 5, dtype=np.float32))
    model = GraphAutoEncoder(hidden=8, latent_dim=3, variational=True)
    params = model.init(jax.random.key(0), batch["features"], batch["graph"])

    def loss(key):
        terms = model.apply(
            params,
            batch,
            key,
            {"beta": jnp.asarray(1.0)},
            step=0,
            train=True,
            method=objectives.negative_elbo,
        )
        return float(terms.loss.mean())

    assert loss(jax.random.key(5)) == loss(jax.random.key(5))
    assert loss(jax.random.key(5)) != loss(jax.random.key(6))
    assert normalized_adjacency(np.zeros((0, 2), int), 3).weights.shape == (3,)
