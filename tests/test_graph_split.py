"""The seeded 85/5/10 edge split; test and validation edges never reach the encoder."""

from __future__ import annotations

import jax
import numpy as np
from planetoid_files import sbm_graph

from aejax.data.edge_split import sample_non_edges, split_edges, training_inputs


def _pairs(a):
    return {tuple(p) for p in np.asarray(a).tolist()}


def _graph():
    return sbm_graph(80, 4, 0.3, 0.02, seed=3)[1]


def test_split_sizes_disjointness_and_negatives():
    edges = _graph()
    s = split_edges(edges, 80, jax.random.key(0))
    e = len(edges)
    assert (len(s.test), len(s.val)) == (e // 10, e // 20)  # floor, as the reference
    assert len(s.train) == e - e // 10 - e // 20
    assert _pairs(s.train) | _pairs(s.val) | _pairs(s.test) == _pairs(edges)
    assert not (_pairs(s.train) & _pairs(s.test)) and not (_pairs(s.train) & _pairs(s.val))
    negatives = np.concatenate([s.test_neg, s.val_neg])
    assert len(s.test_neg) == len(s.test) and len(s.val_neg) == len(s.val)
    assert np.all(negatives[:, 0] < negatives[:, 1])  # no self-pairs, canonical order
    assert len(_pairs(negatives)) == len(negatives)  # distinct
    assert not (_pairs(negatives) & _pairs(edges))  # not edges of the full graph


def test_split_is_a_function_of_the_key():
    edges = _graph()
    a, b = split_edges(edges, 80, jax.random.key(5)), split_edges(edges, 80, jax.random.key(5))
    c = split_edges(edges, 80, jax.random.key(6))
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.test_neg, b.test_neg)
    assert _pairs(a.test) != _pairs(c.test)


def test_held_out_edges_never_reach_the_encoder_or_the_target():
    edges = _graph()
    s = split_edges(edges, 80, jax.random.key(1))
    batch = training_inputs(s, 80, None)
    g = batch["graph"]
    seen = _pairs(np.stack([np.asarray(g.senders), np.asarray(g.receivers)], 1))
    target = _pairs(np.stack([batch["label_src"], batch["label_dst"]], 1))
    held_out = _pairs(s.test) | _pairs(s.val)
    both_ways = held_out | {(j, i) for i, j in held_out}
    assert not (seen & both_ways) and not (target & both_ways)
    # what the encoder sees is exactly the training edges (both ways) plus self-loops
    train = _pairs(s.train)
    assert seen == train | {(j, i) for i, j in train} | {(i, i) for i in range(80)}


def test_non_edges_are_roughly_uniform():
    # Complete bipartite-free toy: with no edges every pair i < j is equally likely.
    draws = sample_non_edges(np.zeros((0, 2), np.int64), 5, 10, jax.random.key(0))
    assert _pairs(draws) == {(i, j) for i in range(5) for j in range(i + 1, 5)}


def test_loss_weights_follow_the_reference_formula():
    edges = _graph()
    s = split_edges(edges, 80, jax.random.key(2))
    batch = training_inputs(s, 80, None)
    a = np.zeros((80, 80))
    a[s.train[:, 0], s.train[:, 1]] = a[s.train[:, 1], s.train[:, 0]] = 1
    np.testing.assert_allclose(batch["pos_weight"], (80 * 80 - a.sum()) / a.sum(), rtol=1e-6)
    np.testing.assert_allclose(batch["norm"], 80 * 80 / ((80 * 80 - a.sum()) * 2), rtol=1e-6)
