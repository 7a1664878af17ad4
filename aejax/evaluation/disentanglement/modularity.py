"""Modularity and explicitness (Ridgeway & Mozer, 2018).

**Modularity**: a code is modular when it carries information about at most one factor. With
``m_if`` the mutual information between code ``i`` and factor ``f`` and ``theta_i = max_f m_if``,
code ``i`` scores ``1 - delta_i`` with
``delta_i = sum_{f != argmax} m_if^2 / (theta_i^2 (F - 1))``; modularity is the mean over
codes, in [0, 1]. A code with no information at all (``theta_i = 0``, e.g. a constant code)
scores 0 (disentanglement_lib's convention). Modularity ignores whether a factor is captured at
all, and duplicated codes stay modular; the bottom of its range is a code that is equally
informative about every factor.

Mutual information as for MIG: 20 equal-width bins per code, plug-in estimate on the training
sample. Because the plug-in estimate is biased upwards by about ``(bins - 1)(values - 1) / (2N)``
nats, uninformative codes get small positive values that grow with the number of factor values,
so pure noise does not score 0 when factors have different numbers of values.

**Explicitness**: for each factor, a one-vs-rest ROC AUC of ``LogisticRegression`` (L2, C = 1,
multinomial) trained on all codes, standardised with the training sample's mean and standard
deviation as disentanglement_lib does, macro-averaged over the factor's values and then over
factors; 0.5 is chance. Reported on the training and the test sample. The ``aejax_v1`` protocol
allows the regression 1,000 iterations, ``dlib_study_v1`` scikit-learn's default of 100. A
value absent from one sample is left out of its average (disentanglement_lib fails there), and
a constant code is left as is (disentanglement_lib divides it by its zero deviation). Default
sample: 10,000 training and 5,000 test combinations.

References:
  Ridgeway & Mozer, "Learning Deep Disentangled Embeddings with the F-Statistic Loss",
  NeurIPS 2018, section 3 (modularity, explicitness). Locatello et al., ICML 2019, appendix.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aejax.errors import DataError
from aejax.evaluation.disentanglement._discretize import NUM_BINS, histogram_discretize
from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    check_codes,
    sample_codes,
)
from aejax.evaluation.disentanglement._mutual_info import discrete_mutual_info


def modularity(mutual_info: np.ndarray) -> float:
    """Mean over codes of ``1 - delta_i`` for a ``[D, F]`` mutual-information matrix (F >= 2)."""
    sq = np.square(mutual_info)
    theta = sq.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (sq.sum(axis=1) - theta) / (theta * (sq.shape[1] - 1))
    return float(np.mean(np.where(theta > 0, 1.0 - delta, 0.0)))


def _macro_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Mean one-vs-rest AUC over the classes that occur (and do not fill) ``y``."""
    aucs = []
    for k, c in enumerate(classes):
        positive = y == c
        if positive.any() and not positive.all():
            aucs.append(roc_auc_score(positive, proba[:, k]))
    return float(np.mean(aucs)) if aucs else 0.5


def explicitness(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    max_iter: int = 1000,
) -> tuple[float, float]:
    """``(train, test)`` explicitness: mean over factors of the macro one-vs-rest ROC AUC."""
    train, test = [], []
    for j in range(factors_train.shape[1]):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
        clf.fit(codes_train, factors_train[:, j])
        classes = clf.classes_
        train.append(_macro_auc(factors_train[:, j], clf.predict_proba(codes_train), classes))
        test.append(_macro_auc(factors_test[:, j], clf.predict_proba(codes_test), classes))
    return float(np.mean(train)), float(np.mean(test))


def modularity_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    num_bins: int = NUM_BINS,
    max_iter: int = 1000,
) -> dict[str, float]:
    """Modularity (training sample) and explicitness of codes ``[N, D]`` for factors ``int[N, F]``
    (``max_iter``: of the explicitness regressions).

    Returns:
      ``{"modularity": [0, 1], "explicitness_train": [0, 1], "explicitness_test": [0, 1]}``.
    """
    codes_train, factors_train = check_codes(codes_train, factors_train, "modularity (train)")
    codes_test, factors_test = check_codes(codes_test, factors_test, "modularity (test)")
    if factors_train.shape[1] < 2:
        raise DataError("modularity: needs at least 2 factors, got 1")
    mi = discrete_mutual_info(histogram_discretize(codes_train, num_bins), factors_train)
    exp_train, exp_test = explicitness(
        codes_train, factors_train, codes_test, factors_test, max_iter=max_iter
    )
    return {
        "modularity": modularity(mi),
        "explicitness_train": exp_train,
        "explicitness_test": exp_test,
    }


def compute_modularity(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    num_train: int = 10_000,
    num_test: int = 5_000,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """Modularity and explicitness of ``representation_fn`` on fresh samples."""
    rng = np.random.default_rng(seed)
    codes, factors = sample_codes(ground_truth, representation_fn, rng, num_train + num_test)
    return modularity_from_codes(
        codes[:num_train],
        factors[:num_train],
        codes[num_train:],
        factors[num_train:],
        num_bins=num_bins,
    )
