"""Clustering scores: Hungarian accuracy against brute force over label maps, NMI/ARI extremes."""

import itertools

import numpy as np
import pytest

from aejax.evaluation import clustering


def _brute_force_accuracy(labels, clusters):
    """Best accuracy over every injective map from cluster ids to label ids (small k only)."""
    ks, ls = np.unique(clusters), np.unique(labels)
    best = 0.0
    for perm in itertools.permutations(ls, len(ks)) if len(ks) <= len(ls) else []:
        mapping = dict(zip(ks, perm, strict=True))
        best = max(best, np.mean([mapping[c] == y for c, y in zip(clusters, labels, strict=True)]))
    return best


def test_perfect_clustering_scores_one_under_any_relabelling():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=200)
    perm = rng.permutation(5) + 10  # cluster ids are arbitrary integers
    scores = clustering.clustering_scores(labels, perm[labels])
    assert scores == pytest.approx({"acc": 1.0, "nmi": 1.0, "ari": 1.0})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accuracy_matches_brute_force_and_is_permutation_invariant(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=60)
    clusters = np.where(rng.random(60) < 0.6, labels, rng.integers(0, 4, size=60))
    acc = clustering.cluster_accuracy(labels, clusters)
    assert acc == pytest.approx(_brute_force_accuracy(labels, clusters))
    relabelled = rng.permutation(4)[clusters]
    assert clustering.cluster_accuracy(labels, relabelled) == pytest.approx(acc)


def test_kmeans_recovers_separated_blobs_and_beats_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 50)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = centres[labels] + rng.normal(size=(150, 2))
    scores = clustering.kmeans_scores(points, labels, num_clusters=3, seed=0)
    assert scores["acc"] == 1.0 and scores["nmi"] == pytest.approx(1.0)
    noise = clustering.kmeans_scores(rng.normal(size=(150, 2)), labels, num_clusters=3, seed=0)
    assert noise["ari"] < 0.1 and noise["acc"] < 0.6
