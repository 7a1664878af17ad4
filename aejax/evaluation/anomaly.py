"""Anomaly detection: how well per-example scores single out a class held out of training.

A model trained with ``data.exclude_class = c`` never saw class ``c``; test images are scored by
reconstruction error and by negative ELBO (higher = more anomalous), and AUROC / AUPRC of finding
class ``c`` come from scikit-learn. Random scores give AUROC 0.5 and AUPRC the fraction of class c.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def detection_scores(is_anomaly: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``{"auroc", "auprc", "positive_fraction"}`` of ``scores [N]`` for the targets
    ``is_anomaly: bool [N]`` (both classes must occur)."""
    is_anomaly = np.asarray(is_anomaly, bool)
    scores = np.asarray(scores, np.float64)
    if is_anomaly.all() or not is_anomaly.any():
        raise ValueError("anomaly scores need both anomalous and normal examples")
    return {
        "auroc": float(roc_auc_score(is_anomaly, scores)),
        "auprc": float(average_precision_score(is_anomaly, scores)),
        "positive_fraction": float(is_anomaly.mean()),
    }


def anomaly_table(
    labels: np.ndarray, held_out: int, scores: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """:func:`detection_scores` of each named score array for ``labels == held_out``."""
    target = np.asarray(labels) == held_out
    return {name: detection_scores(target, s) for name, s in scores.items()}
