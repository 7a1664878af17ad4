"""Link prediction (AUC, AP) and node clustering (ACC, NMI) from node embeddings.

Link prediction follows Kipf & Welling (2016): held-out edges and as many non-edges are scored
by ``sigmoid(z_i . z_j)`` with the posterior means, then ranked (scikit-learn's ROC AUC and
average precision). Clustering runs K-means with K = number of classes on the embeddings and
matches clusters to classes with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``)
for accuracy; NMI needs no matching. Nodes with label -1 are left out of clustering scores.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.special
from sklearn import cluster, metrics

# Kipf & Welling (2016), Table 1: link prediction, percent (mean over 10 runs).
PUBLISHED = {
    ("gae", "cora"): (91.0, 92.0),
    ("vgae", "cora"): (91.4, 92.6),
    ("gae", "citeseer"): (89.5, 89.9),
    ("vgae", "citeseer"): (90.8, 92.0),
}
# The same table's featureless rows (GAE*, VGAE*: identity features), for runs without features.
PUBLISHED_FEATURELESS = {
    ("gae", "cora"): (84.3, 88.1),
    ("vgae", "cora"): (84.0, 87.7),
    ("gae", "citeseer"): (78.7, 84.1),
    ("vgae", "citeseer"): (78.9, 84.1),
    ("gae", "pubmed"): (82.2, 87.4),
    ("vgae", "pubmed"): (82.7, 87.5),
}


def link_scores(z: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``sigmoid(z_i . z_j)`` for node pairs ``[K, 2]`` given embeddings ``[N, D]``: ``[K]``."""
    z = np.asarray(z, np.float64)
    return scipy.special.expit(np.sum(z[pairs[:, 0]] * z[pairs[:, 1]], axis=1))


def auc_ap(z: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> dict[str, float]:
    """ROC AUC and average precision of edges ``positives`` against ``negatives`` (fractions)."""
    scores = np.concatenate([link_scores(z, positives), link_scores(z, negatives)])
    truth = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    return {
        "auc": float(metrics.roc_auc_score(truth, scores)),
        "ap": float(metrics.average_precision_score(truth, scores)),
    }


def clustering_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Accuracy under the best one-to-one map of cluster ids to labels (Hungarian matching)."""
    k = int(max(labels.max(), clusters.max())) + 1
    counts = np.zeros((k, k), np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = scipy.optimize.linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels))


def node_clustering(
    z: np.ndarray, labels: np.ndarray, num_classes: int, seed: int
) -> dict[str, float]:
    """K-means (``n_init=10``, ``random_state=seed``) of the labelled nodes' embeddings."""
    keep = labels >= 0
    assigned = cluster.KMeans(num_classes, n_init=10, random_state=seed).fit_predict(
        np.asarray(z, np.float64)[keep]
    )
    return {
        "cluster_acc": clustering_accuracy(labels[keep], assigned),
        "cluster_nmi": float(metrics.normalized_mutual_info_score(labels[keep], assigned)),
    }
