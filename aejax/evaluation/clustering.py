"""Clustering quality of a representation: K-means, then accuracy, NMI and ARI against labels.

K-means (scikit-learn) runs on the latent means and, as baselines, on raw pixels and on PCA of
the pixels. Accuracy matches clusters to classes with the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``), so it does not depend on how clusters are numbered.
Published anchor (DEC-keras README): AE + K-means ACC 0.88 / NMI 0.81 on MNIST; K-means on raw
pixels 0.53 / 0.50.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def cluster_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Best accuracy over one-to-one maps from cluster ids to labels (Hungarian matching).

    ``labels, clusters: int [N]``; the numbers of clusters and classes may differ (unmatched
    clusters count as errors).
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    clusters = np.asarray(clusters).astype(np.int64).ravel()
    if labels.shape != clusters.shape:
        raise ValueError(f"labels {labels.shape} and clusters {clusters.shape} differ in shape")
    _, li = np.unique(labels, return_inverse=True)
    _, ci = np.unique(clusters, return_inverse=True)
    counts = np.zeros((ci.max() + 1, li.max() + 1), np.int64)
    np.add.at(counts, (ci, li), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / labels.size)


def clustering_scores(labels: np.ndarray, clusters: np.ndarray) -> dict[str, float]:
    """``{"acc", "nmi", "ari"}`` of a clustering against labels (each 1.0 for a perfect one)."""
    return {
        "acc": cluster_accuracy(labels, clusters),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
    }


def kmeans_scores(
    features: np.ndarray, labels: np.ndarray, *, num_clusters: int, seed: int, n_init: int = 10
) -> dict[str, float]:
    """K-means with ``num_clusters`` on ``features [N, F]``, scored against ``labels [N]``."""
    km = KMeans(n_clusters=num_clusters, n_init=n_init, random_state=seed)
    return clustering_scores(labels, km.fit_predict(np.asarray(features, np.float64)))


def clustering_table(
    latent: np.ndarray,
    pixels: np.ndarray,
    labels: np.ndarray,
    *,
    num_clusters: int,
    seed: int,
    pca_dims: int = 50,
    n_init: int = 10,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """K-means scores on ``latent [N, D]``, raw ``pixels [N, P]`` and their PCA (``pca_dims``).

    Returns ``{"latent": {...}, "pixels": {...}, "pca_pixels": {...}}`` of :func:`kmeans_scores`
    (``n_init`` restarts each); ``on_done(name)`` is called after each of the three.
    """
    pixels = np.asarray(pixels, np.float64).reshape(len(pixels), -1)
    dims = min(pca_dims, *pixels.shape)
    kw = dict(num_clusters=num_clusters, seed=seed, n_init=n_init)
    done = on_done or (lambda name: None)
    out = {"latent": kmeans_scores(latent, labels, **kw)}
    done("latent")
    out["pixels"] = kmeans_scores(pixels, labels, **kw)
    done("pixels")
    pca = PCA(n_components=dims, random_state=seed).fit_transform(pixels)
    out[f"pca{dims}_pixels"] = kmeans_scores(pca, labels, **kw)
    done(f"pca{dims}_pixels")
    return out
