"""Graph autoencoders at scale: drawn non-edges avoid the target, the generated block-model graph
has the structure it promises, dense features stay dense, and the sampled loss trains it."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config
from planetoid_files import sbm_graph

from aejax import build
from aejax.data import sbm
from aejax.data.edge_split import EdgeSplit, pair_index, split_edges, training_inputs
from aejax.errors import ConfigError, DataError
from aejax.objectives import non_edges
from aejax.train.run import graph_inputs


def _targets(num_nodes, edges):
    """The ones of A + I (both directions, self-loops) as a Python set and a batch."""
    empty = edges[:0]
    split = EdgeSplit(train=edges, val=empty, val_neg=empty, test=empty, test_neg=empty)
    batch = training_inputs(split, num_nodes, None)
    ones = set(zip(batch["label_src"].tolist(), batch["label_dst"].tolist(), strict=True))
    return ones, batch


def test_pair_index_lookup_is_set_membership():
    _, edges = sbm_graph(50, 4, 0.4, 0.05, seed=1)
    ones, batch = _targets(50, edges)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 50, 4000), rng.integers(0, 50, 4000)
    found = non_edges.contains(
        batch["label_indptr"], batch["label_indices"], jnp.asarray(rows), jnp.asarray(cols)
    )
    expected = [(r, c) in ones for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
    assert 0.05 < np.mean(expected) < 0.5  # both outcomes are exercised
    np.testing.assert_array_equal(np.asarray(found), expected)


def test_pair_index_rows_hold_sorted_columns():
    indptr, indices = pair_index(np.array([2, 0, 2, 2]), np.array([5, 1, 0, 3]), 4)
    np.testing.assert_array_equal(indptr, [0, 1, 1, 4, 4])
    np.testing.assert_array_equal(indices, [1, 0, 3, 5])


@pytest.mark.parametrize("rounds", [0, 3])
def test_drawn_negatives_never_include_a_training_edge_or_self_loop(rounds):
    # A dense graph (about 40% of pairs are ones): without redraws many candidates hit a target
    # one, and every such candidate must be flagged invalid.
    _, edges = sbm_graph(30, 2, 0.8, 0.2, seed=2)
    ones, batch = _targets(30, edges)
    rows, cols, valid = non_edges.sample_outside(
        jax.random.key(0), batch["label_indptr"], batch["label_indices"], 20_000, rounds=rounds
    )
    rows, cols, valid = (np.asarray(a) for a in (rows, cols, valid))
    hits = np.array([(r, c) in ones for r, c in zip(rows.tolist(), cols.tolist(), strict=True)])
    np.testing.assert_array_equal(valid, ~hits)
    # A candidate stays rejected only if every one of its rounds + 1 draws hit a target one.
    density = len(ones) / 30**2
    assert density > 0.2
    assert abs(valid.mean() - (1 - density ** (rounds + 1))) < 0.015


def test_accepted_negatives_are_uniform_over_the_non_edges():
    _, edges = sbm_graph(12, 2, 0.5, 0.1, seed=3)
    ones, batch = _targets(12, edges)
    rows, cols, valid = non_edges.sample_outside(
        jax.random.key(1), batch["label_indptr"], batch["label_indices"], 60_000
    )
    codes = (np.asarray(rows) * 12 + np.asarray(cols))[np.asarray(valid)]
    counts = np.bincount(codes, minlength=144)
    outside = [r * 12 + c for r in range(12) for c in range(12) if (r, c) not in ones]
    assert counts.sum() == counts[outside].sum()  # nothing lands on a target one
    expected = counts.sum() / len(outside)
    # chi-square against uniform: 99.9% quantile for about 100 degrees of freedom is ~150
    chi2 = float(((counts[outside] - expected) ** 2 / expected).sum())
    assert chi2 < 1.5 * len(outside)


def test_generated_block_model_has_its_sizes_and_structure():
    spec = sbm.BlockModel(num_nodes=3_000, num_edges=24_000, num_blocks=6, feature_dim=8)
    graph = sbm.block_model_graph(spec)
    e = graph.edges.astype(np.int64)
    assert graph.edges.shape == (24_000, 2) and graph.edges.dtype == np.int32
    assert (e[:, 0] < e[:, 1]).all()  # each undirected edge once, no self-loops
    assert len(np.unique(e[:, 0] * 3_000 + e[:, 1])) == 24_000
    np.testing.assert_array_equal(np.bincount(graph.labels), [500] * 6)  # equal blocks
    # An edge stays in its block with probability within + (1 - within) / B (before repeats).
    same = float(np.mean(graph.labels[e[:, 0]] == graph.labels[e[:, 1]]))
    assert abs(same - (0.8 + 0.2 / 6)) < 0.02
    # Features: block centroid + noise, so block means differ far more than within-block noise.
    centroids = np.stack([graph.features[graph.labels == b].mean(0) for b in range(6)])
    assert graph.features.shape == (3_000, 8) and graph.features.dtype == np.float32
    assert np.std(centroids, axis=0).mean() > 0.5
    again = sbm.block_model_graph(spec)
    np.testing.assert_array_equal(again.edges, graph.edges)  # the preset fixes the graph
    other = sbm.block_model_graph(dataclasses.replace(spec, seed=1))
    assert not np.array_equal(other.edges, graph.edges)


def test_large_preset_meets_the_scale_and_unknown_presets_are_refused():
    spec = sbm.PRESETS["large"]
    assert spec.num_nodes >= 100_000 and spec.num_edges >= 1_000_000
    with pytest.raises(DataError, match="sbm:small, sbm:large"):
        sbm.load_sbm("huge")


def test_generated_graph_configs_build_and_dense_loss_is_refused_when_large():
    small = tiny_config(**{"data.name": "sbm:small", "graph.negatives": 1})
    assert build.experiment_kind(small) == "graph"
    graph = build.load_graph(small)
    assert graph.num_nodes == sbm.PRESETS["small"].num_nodes
    large = tiny_config(**{"data.name": "sbm:large", "graph.negatives": 0})
    fake = dataclasses.replace(graph, num_nodes=sbm.PRESETS["large"].num_nodes)
    with pytest.raises(ConfigError, match="graph.negatives=1"):
        build.build_graph_experiment(large, fake)


def test_dense_features_stay_dense_and_bag_of_words_features_are_sparse():
    graph = sbm.load_sbm("small")
    split = split_edges(graph.edges, graph.num_nodes, jax.random.key(0))
    dense = graph_inputs(split, graph)["features"]
    assert isinstance(dense, jax.Array) and dense.shape == graph.features.shape
    words = np.zeros_like(graph.features)
    words[np.arange(graph.num_nodes), np.arange(graph.num_nodes) % words.shape[1]] = 1.0
    sparse = graph_inputs(split, dataclasses.replace(graph, features=words))["features"]
    assert type(sparse).__name__ == "BCOO"
    np.testing.assert_array_equal(np.asarray(sparse.todense()), words)


def test_sampled_vgae_learns_the_links_and_blocks_of_a_generated_graph(tmp_path):
    from aejax.graph.evaluate import evaluate_graph
    from aejax.graph.train import train_graph
    from experiments import vgae_sbm

    config = vgae_sbm.get_config()
    config.data.name = "sbm:small"
    config.graph.num_runs, config.train.num_steps, config.train.progress = 1, 50, False
    summary = train_graph(config, tmp_path)
    assert summary["step"] == 50 and summary["train_compilations"] == 1
    result = evaluate_graph(tmp_path)
    assert result["negatives"] == 1 and result["num_nodes"] == 2_000
    scores = {k: v["mean"] for k, v in result["summary"].items()}
    assert scores["test_auc"] > 0.75  # chance is 0.5; links follow the blocks
    assert scores["cluster_nmi"] > 0.8  # K-means on the embeddings recovers the 10 blocks
