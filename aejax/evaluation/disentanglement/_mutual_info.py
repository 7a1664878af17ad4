"""Plug-in mutual information and entropy of discrete variables, in nats (scikit-learn).

``mutual_info_score`` computes ``I(X; Y) = sum p(x, y) log(p(x, y) / (p(x) p(y)))`` from the
empirical contingency table; ``H(Y) = I(Y; Y)``. The estimate is biased upwards by roughly
``(|X| - 1)(|Y| - 1) / (2N)`` nats, so independent variables get a small positive value.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mutual_info_score


def discrete_mutual_info(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``[D, F]`` mutual information between discrete ``codes [N, D]`` and ``factors [N, F]``."""
    mi = np.empty((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            mi[i, j] = mutual_info_score(factors[:, j], codes[:, i])
    return mi


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """``[F]`` empirical entropy of each column of discrete ``factors [N, F]``, in nats."""
    return np.array([mutual_info_score(col, col) for col in np.asarray(factors).T])
