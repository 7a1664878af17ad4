"""Link-prediction and clustering scores against hand-computed definitions."""

from __future__ import annotations

import itertools

import numpy as np

from aejax.graph import evaluation


def test_clustering_accuracy_is_the_best_label_permutation():
    rng = np.random.default_rng(0)
    labels, clusters = rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    brute = max(
        np.mean(np.asarray(perm)[clusters] == labels) for perm in itertools.permutations(range(4))
    )
    assert evaluation.clustering_accuracy(labels, clusters) == brute


def test_auc_and_ap_match_their_definitions():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(12, 3))
    pos = np.array([[0, 1], [2, 3], [4, 5], [6, 7]])
    neg = np.array([[0, 8], [1, 9], [2, 10], [3, 11], [5, 6]])
    got = evaluation.auc_ap(z, pos, neg)
    sp = [1 / (1 + np.exp(-z[i] @ z[j])) for i, j in pos]
    sn = [1 / (1 + np.exp(-z[i] @ z[j])) for i, j in neg]
    auc = np.mean([(a > b) + 0.5 * (a == b) for a in sp for b in sn])  # Mann-Whitney
    ranked = sorted([(s, 1) for s in sp] + [(s, 0) for s in sn], reverse=True)
    hits, ap = 0, 0.0
    for k, (_, relevant) in enumerate(ranked, start=1):
        hits += relevant
        ap += relevant * hits / k
    np.testing.assert_allclose(got["auc"], auc)
    np.testing.assert_allclose(got["ap"], ap / len(pos))


def test_kmeans_recovers_separated_clusters_and_skips_unlabelled_nodes():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 20)
    z = np.eye(3)[labels] * 10 + rng.normal(scale=0.1, size=(60, 3))
    labels_with_missing = labels.copy()
    labels_with_missing[:5] = -1
    scores = evaluation.node_clustering(z, labels_with_missing, 3, seed=0)
    assert scores == {"cluster_acc": 1.0, "cluster_nmi": 1.0}
    shuffled = evaluation.node_clustering(rng.normal(size=(60, 3)), labels, 3, seed=0)
    assert shuffled["cluster_nmi"] < 0.2
