"""DCI: disentanglement, completeness and informativeness from a code-to-factor importance matrix.

One classifier per factor predicts the factor-value index from all codes; its feature importances
form column ``k`` of ``R [D, F]`` (non-negative, summing to 1 unless the model never splits).

- **disentanglement**: ``sum_i rho_i (1 - H_F(P_i.))`` with ``P_ij = R_ij / sum_k R_ik``,
  ``H_F`` the entropy in base ``F`` and ``rho_i = sum_j R_ij / sum R`` the relative importance of
  code ``i``. 1 when every code matters for one factor only.
- **completeness**: ``sum_j rho_j (1 - H_D(P~_.j))`` with ``P~_ij = R_ij / sum_k R_kj``, entropy in
  base ``D``, ``rho_j`` the relative importance of factor ``j``. 1 when each factor is captured by
  one code.
- **informativeness**: the classifiers' mean accuracy over factors on the training and on the
  held-out sample (disentanglement_lib's convention; Eastwood & Williams report an error).

A zero importance matrix (constant codes) scores 0 on both (entropies of a uniform distribution).

Estimator choices: ``model="random_forest"`` (the ``aejax_v1`` protocol) is scikit-learn's
``RandomForestClassifier(n_estimators=20, max_features=None, min_samples_leaf=5)`` with impurity
(MDI) importances, the random-forest variant of Eastwood & Williams (2018), seeded ``seed + j``
for factor ``j``. Every split considers every code (``max_features=None``, as gradient boosting
does): with scikit-learn's default random subset of sqrt(D) codes, splits on uninformative codes
leak importance to them and the ground truth itself scores only about 0.85.
``model="gradient_boosting"`` (the ``dlib_study_v1`` protocol) is disentanglement_lib's
``GradientBoostingClassifier()`` (100 stages of depth-3 trees), the exact Locatello et al. (2019)
setting; the factors' fits share one ``RandomState(seed)`` in factor order, as the reference's
fits share numpy's global state, so ties between equally good splits break the same way. It fits
one tree per class and stage: about a minute per 40-valued factor on 2,000 samples on a laptop
core, too slow for the default suite. Factors are treated as classes (their value indices).
Default sample: 10,000 training and 5,000 test combinations.

References:
  Eastwood & Williams, "A Framework for the Quantitative Evaluation of Disentangled
  Representations", ICLR 2018, section 3. Locatello et al., ICML 2019, appendix.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    check_codes,
    sample_codes,
    sklearn_seed,
)

MODELS = ("random_forest", "gradient_boosting")
_EPS = 1e-11  # disentanglement_lib's offset: makes an all-zero row a uniform distribution


def _classifiers(model: str, seed: int, num_factors: int) -> list:
    """One unfitted classifier per factor (see the module docstring for the seeding)."""
    if model == "random_forest":
        return [
            RandomForestClassifier(
                n_estimators=20, max_features=None, min_samples_leaf=5, random_state=seed + j
            )
            for j in range(num_factors)
        ]
    if model == "gradient_boosting":
        shared = np.random.RandomState(seed)
        return [GradientBoostingClassifier(random_state=shared) for _ in range(num_factors)]
    raise ValueError(f"dci: unknown model '{model}'; valid models: {', '.join(MODELS)}")


def importance_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    model: str = "random_forest",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(R [D, F], train accuracy [F], test accuracy [F])`` of one classifier per factor."""
    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    importance = np.zeros((num_codes, num_factors))
    acc_train, acc_test = np.zeros(num_factors), np.zeros(num_factors)
    for j, clf in enumerate(_classifiers(model, seed, num_factors)):
        clf.fit(codes_train, factors_train[:, j])
        importance[:, j] = np.abs(clf.feature_importances_)
        acc_train[j] = clf.score(codes_train, factors_train[:, j])
        acc_test[j] = clf.score(codes_test, factors_test[:, j])
    return importance, acc_train, acc_test


def disentanglement(importance: np.ndarray) -> float:
    """Importance-weighted mean over codes of ``1 - H_F(row distribution)``, in [0, 1]."""
    per_code = 1.0 - scipy.stats.entropy(importance.T + _EPS, base=importance.shape[1])
    total = importance.sum()
    weights = importance.sum(axis=1) / total if total > 0 else np.full(importance.shape[0], 1.0)
    return float(np.sum(per_code * weights / weights.sum()))


def completeness(importance: np.ndarray) -> float:
    """Importance-weighted mean over factors of ``1 - H_D(column distribution)``, in [0, 1]."""
    return disentanglement(importance.T)


def dci_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    model: str = "random_forest",
    seed: int = 0,
) -> dict[str, float]:
    """DCI of training/test codes ``[N, D]`` against factor indices ``int[N, F]``.

    Returns:
      ``{"disentanglement", "completeness", "informativeness_train", "informativeness_test"}``,
      each in [0, 1].
    """
    codes_train, factors_train = check_codes(codes_train, factors_train, "dci (train)")
    codes_test, factors_test = check_codes(codes_test, factors_test, "dci (test)")
    importance, acc_train, acc_test = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, model=model, seed=seed
    )
    return {
        "disentanglement": disentanglement(importance),
        "completeness": completeness(importance),
        "informativeness_train": float(acc_train.mean()),
        "informativeness_test": float(acc_test.mean()),
    }


def compute_dci(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    num_train: int = 10_000,
    num_test: int = 5_000,
    model: str = "random_forest",
) -> dict[str, float]:
    """DCI of ``representation_fn`` on fresh samples from ``ground_truth``."""
    rng = np.random.default_rng(seed)
    codes, factors = sample_codes(ground_truth, representation_fn, rng, num_train + num_test)
    return dci_from_codes(
        codes[:num_train],
        factors[:num_train],
        codes[num_train:],
        factors[num_train:],
        model=model,
        seed=sklearn_seed(rng),
    )
