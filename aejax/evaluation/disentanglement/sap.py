"""SAP (Separated Attribute Predictability): the gap between the two codes that best predict each
factor on their own.

A score matrix ``S [D, F]`` rates how well code ``i`` alone predicts factor ``j``; SAP is the mean
over factors of the difference between the largest and second-largest entry of each column. It lies
in [0, 1]: near 1 when each factor is predictable from exactly one code, 0 when two codes predict it
equally well (duplicated codes) or none does.

Estimator choices of the ``aejax_v1`` protocol, following Kumar et al. (2018):

- ordinal factors (scale, orientation, position): ``S_ij`` is the R^2 of a linear regression of
  the factor index on the code, ``corr(z_i, v_j)^2``, on the training sample (0 for a constant
  code). This is disentanglement_lib's ``continuous_factors=True`` branch.
- categorical factors (``shapes``' shape): ``S_ij`` is the balanced accuracy on the test sample of
  ``LinearSVC(C=0.01, class_weight="balanced")`` trained on the single standardised code (mean 0,
  variance 1 on the training sample), so that the score does not depend on the code's scale
  through the fixed ``C``.

The ``dlib_study_v1`` protocol follows the study (``sap_score.continuous_factors = False``):
every factor is categorical, and ``S_ij`` is the plain accuracy on the test sample of the same
``LinearSVC`` trained on the raw code (``standardize=False, balanced=False``).

Default sample: 10,000 training and 5,000 test combinations.

References:
  Kumar, Sattigeri & Balakrishnan, "Variational Inference of Disentangled Latent Concepts from
  Unlabeled Observations", ICLR 2018, section 3 (SAP). Locatello et al., ICML 2019, appendix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.svm import LinearSVC

from aejax.errors import DataError
from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    check_codes,
    sample_codes,
    sklearn_seed,
)

_MIN_VAR = 1e-12  # a code with less variance than this is constant: it scores 0


def _r2(code: np.ndarray, factor: np.ndarray) -> float:
    cov = np.cov(code, factor.astype(np.float64))
    if cov[0, 0] <= _MIN_VAR or cov[1, 1] <= 0:
        return 0.0
    return float(cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]))


def _svc_score(
    code_train, y_train, code_test, y_test, seed: int, *, standardize: bool, balanced: bool
) -> float:
    """Test (balanced) accuracy of a ``LinearSVC`` on one code ``[N]`` (see the docstring)."""
    score = balanced_accuracy_score if balanced else accuracy_score
    if standardize:
        mean, std = code_train.mean(), code_train.std()
        if std**2 <= _MIN_VAR:  # no information: every example gets the same prediction
            return float(score(y_test, np.full_like(y_test, y_train[0])))
        code_train, code_test = (code_train - mean) / std, (code_test - mean) / std
    svc = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
    svc.fit(code_train[:, None], y_train)
    return float(score(y_test, svc.predict(code_test[:, None])))


def score_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    categorical: Sequence[bool],
    *,
    seed: int = 0,
    standardize: bool = True,
    balanced: bool = True,
) -> np.ndarray:
    """``S [D, F]``: R^2 (ordinal factors) or the ``LinearSVC``'s (balanced) accuracy
    (categorical factors) of single codes."""
    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    scores = np.zeros((num_codes, num_factors))
    for i in range(num_codes):
        for j in range(num_factors):
            if categorical[j]:
                scores[i, j] = _svc_score(
                    codes_train[:, i],
                    factors_train[:, j],
                    codes_test[:, i],
                    factors_test[:, j],
                    seed,
                    standardize=standardize,
                    balanced=balanced,
                )
            else:
                scores[i, j] = _r2(codes_train[:, i], factors_train[:, j])
    return scores


def sap_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    categorical: Sequence[bool] | None = None,
    seed: int = 0,
    standardize: bool = True,
    balanced: bool = True,
) -> dict[str, float]:
    """SAP of training/test codes ``[N, D]`` against factor indices ``int[N, F]``.

    Args:
      categorical: per factor, whether it is categorical (default: all ordinal).
      seed: the ``LinearSVC``'s ``random_state``.
      standardize: the ``LinearSVC`` sees the standardised code (else the raw code).
      balanced: score it by balanced accuracy (else plain accuracy).

    Returns:
      ``{"sap": value in [0, 1]}``.
    """
    codes_train, factors_train = check_codes(codes_train, factors_train, "sap (train)")
    codes_test, factors_test = check_codes(codes_test, factors_test, "sap (test)")
    num_factors = factors_train.shape[1]
    categorical = (False,) * num_factors if categorical is None else tuple(categorical)
    if len(categorical) != num_factors:
        raise DataError(f"sap: {num_factors} factors but {len(categorical)} categorical flags")
    scores = score_matrix(
        codes_train,
        factors_train,
        codes_test,
        factors_test,
        categorical,
        seed=seed,
        standardize=standardize,
        balanced=balanced,
    )
    top = -np.sort(-scores, axis=0)
    second = top[1] if top.shape[0] > 1 else np.zeros(num_factors)
    return {"sap": float(np.mean(top[0] - second))}


def compute_sap(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    num_train: int = 10_000,
    num_test: int = 5_000,
) -> dict[str, float]:
    """SAP of ``representation_fn`` on fresh samples from ``ground_truth``."""
    rng = np.random.default_rng(seed)
    codes, factors = sample_codes(ground_truth, representation_fn, rng, num_train + num_test)
    return sap_from_codes(
        codes[:num_train],
        factors[:num_train],
        codes[num_train:],
        factors[num_train:],
        categorical=ground_truth.categorical,
        seed=sklearn_seed(rng),
    )
