"""BetaVAE score: can a linear classifier tell which factor was held fixed from code differences?

One *point* is made as follows: pick a factor ``k`` uniformly; draw ``B`` pairs of factor
combinations whose members share the value of factor ``k`` (a fresh value per pair, everything
else independent); encode both members; the feature is ``mean_b |z_a - z_b|`` over the ``B``
pairs, ``[D]``, and the label is ``k``. A factor captured by its own codes leaves those codes
equal within each pair, so their mean difference is small. The score is the accuracy of a logistic
regression classifier (scikit-learn ``LogisticRegression``, L2, C = 1) on held-out points. The
``aejax_v1`` protocol standardises the features first (the score should not depend on the
codes' scale) and allows 1,000 iterations; disentanglement_lib (``dlib_study_v1``) fits
``LogisticRegression()`` with its defaults on the raw features.

Range: 1 when every factor can be identified; chance, ``1 / F``, when the codes carry no factor
(random or constant codes). Duplicated codes still score 1: the metric rewards identifiability,
not one-code-per-factor.

Sample sizes: ``B = 64`` pairs per point as in disentanglement_lib; the default
``num_train = 1,000`` and ``num_eval = 500`` points (disentanglement_lib: 10,000 and 5,000, i.e.
1.9 million encoded images), i.e. 192,000 encoded images. The accuracy of a 5-class linear
classifier on D features has a standard error of about 0.02 at 500 evaluation points.

References:
  Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
  Framework", ICLR 2017, section 3 and appendix A.4. Locatello et al., ICML 2019, appendix.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aejax.errors import DataError
from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    encode,
    sklearn_seed,
)

BATCH_SIZE = 64  # pairs averaged into one point (Higgins et al. 2017; disentanglement_lib)


def beta_vae_features(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """``[P, D]`` mean absolute code difference over the ``B`` pairs of each point ``[P, B, D]``."""
    return np.mean(np.abs(codes_a - codes_b), axis=1)


def beta_vae_from_codes(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    fixed_factor: np.ndarray,
    *,
    num_train: int,
    seed: int = 0,
    standardize: bool = True,
    max_iter: int = 1000,
) -> dict[str, float]:
    """BetaVAE score from encoded pairs.

    Args:
      codes_a, codes_b: ``[P, B, D]`` codes of the two members of ``B`` pairs for ``P`` points.
      fixed_factor: ``int[P]`` index of the factor the pairs of each point share.
      num_train: the first ``num_train`` points train the classifier, the rest evaluate it.
      seed: the classifier's ``random_state``.
      standardize: scale the features to zero mean and unit variance (training points) first.
      max_iter: iterations of the logistic regression (scikit-learn's default is 100).

    Returns:
      ``{"train_accuracy", "eval_accuracy"}``, each in [0, 1].
    """
    codes_a, codes_b = np.asarray(codes_a, np.float64), np.asarray(codes_b, np.float64)
    fixed_factor = np.asarray(fixed_factor)
    if (
        codes_a.ndim != 3
        or codes_a.shape != codes_b.shape
        or fixed_factor.shape != codes_a.shape[:1]
    ):
        raise DataError(
            f"beta_vae: expected codes_a, codes_b [P, B, D] and fixed_factor [P], got "
            f"{codes_a.shape}, {codes_b.shape}, {fixed_factor.shape}"
        )
    if not 0 < num_train < codes_a.shape[0]:
        raise DataError(
            f"beta_vae: num_train must be in [1, {codes_a.shape[0] - 1}], got {num_train}"
        )
    x = beta_vae_features(codes_a, codes_b)
    x_train, y_train = x[:num_train], fixed_factor[:num_train]
    x_eval, y_eval = x[num_train:], fixed_factor[num_train:]
    if np.unique(y_train).size < 2:  # one class only: the classifier always predicts it
        return {
            "train_accuracy": 1.0,
            "eval_accuracy": float(np.mean(y_eval == y_train[0])),
        }
    clf = LogisticRegression(max_iter=max_iter, random_state=seed)
    if standardize:
        clf = make_pipeline(StandardScaler(), clf)
    clf.fit(x_train, y_train)
    return {
        "train_accuracy": float(clf.score(x_train, y_train)),
        "eval_accuracy": float(clf.score(x_eval, y_eval)),
    }


def sample_pairs(
    ground_truth: GroundTruth, rng: np.random.Generator, num_points: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(factors_a, factors_b int[P, B, F], fixed int[P])``: pairs sharing factor ``fixed[p]``."""
    fixed = rng.integers(0, ground_truth.num_factors, size=num_points)
    n = num_points * batch_size
    factors_a = ground_truth.sample_factors(rng, n).reshape(num_points, batch_size, -1)
    factors_b = ground_truth.sample_factors(rng, n).reshape(num_points, batch_size, -1)
    points = np.arange(num_points)
    factors_b[points, :, fixed] = factors_a[points, :, fixed]
    return factors_a, factors_b, fixed


def compute_beta_vae(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    batch_size: int = BATCH_SIZE,
    num_train: int = 1_000,
    num_eval: int = 500,
    standardize: bool = True,
    max_iter: int = 1000,
) -> dict[str, float]:
    """BetaVAE score of ``representation_fn`` from ``2 B (num_train + num_eval)`` images
    (``standardize``, ``max_iter``: see :func:`beta_vae_from_codes`)."""
    rng = np.random.default_rng(seed)
    factors_a, factors_b, fixed = sample_pairs(ground_truth, rng, num_train + num_eval, batch_size)
    shape = factors_a.shape[:2]
    both = np.concatenate(
        [
            factors_a.reshape(-1, ground_truth.num_factors),
            factors_b.reshape(-1, ground_truth.num_factors),
        ]
    )
    codes = encode(ground_truth, representation_fn, both)
    codes_a, codes_b = np.split(codes, 2)
    return beta_vae_from_codes(
        codes_a.reshape(*shape, -1),
        codes_b.reshape(*shape, -1),
        fixed,
        num_train=num_train,
        seed=sklearn_seed(rng),
        standardize=standardize,
        max_iter=max_iter,
    )
