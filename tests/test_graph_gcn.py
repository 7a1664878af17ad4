"""GCN layer against the dense formula D^-1/2 (A + I) D^-1/2 X W (Kipf & Welling 2017)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse
from planetoid_files import sbm_graph

from aejax.nn.graph import GCNLayer, normalized_adjacency, propagate


def _dense_a_hat(edges, n):
    a = np.zeros((n, n))
    a[edges[:, 0], edges[:, 1]] = a[edges[:, 1], edges[:, 0]] = 1.0
    a += np.eye(n)
    d = 1.0 / np.sqrt(a.sum(1))
    return d[:, None] * a * d[None, :]


def test_propagate_matches_dense_symmetric_normalisation():
    _, edges = sbm_graph(25, 2, 0.3, 0.05, seed=1)
    h = np.random.default_rng(0).normal(size=(25, 4)).astype(np.float32)
    got = propagate(jnp.asarray(h), normalized_adjacency(edges, 25))
    np.testing.assert_allclose(got, _dense_a_hat(edges, 25) @ h, rtol=1e-5, atol=1e-6)


def test_isolated_node_keeps_its_own_value():
    # Node 3 has no edges: its row of A_hat is the self-loop with weight 1/sqrt(1*1) = 1.
    edges = np.array([[0, 1], [1, 2]])
    h = jnp.arange(8.0).reshape(4, 2)
    np.testing.assert_allclose(propagate(h, normalized_adjacency(edges, 4))[3], h[3])


def test_gcn_layer_is_a_hat_x_w_and_featureless_is_a_hat_w(key):
    _, edges = sbm_graph(20, 2, 0.4, 0.05, seed=2)
    graph = normalized_adjacency(edges, 20)
    x = jax.random.normal(key, (20, 6))
    layer = GCNLayer(3, jax.nn.relu)
    params = layer.init(key, x, graph)
    w = np.asarray(params["params"]["kernel"])
    expected = np.maximum(_dense_a_hat(edges, 20) @ np.asarray(x) @ w, 0.0)
    np.testing.assert_allclose(layer.apply(params, x, graph), expected, rtol=1e-4, atol=1e-5)
    sparse_x = sparse.BCOO.fromdense(jnp.where(x > 0.5, x, 0.0))
    expected = np.maximum(_dense_a_hat(edges, 20) @ np.asarray(sparse_x.todense()) @ w, 0.0)
    np.testing.assert_allclose(layer.apply(params, sparse_x, graph), expected, rtol=1e-4, atol=1e-5)

    featureless = GCNLayer(3, num_nodes=20)
    params = featureless.init(key, None, graph)
    w = np.asarray(params["params"]["kernel"])  # X = I, so X W = W: [N, 3]
    assert w.shape == (20, 3)
    np.testing.assert_allclose(
        featureless.apply(params, None, graph), _dense_a_hat(edges, 20) @ w, rtol=1e-4, atol=1e-5
    )
