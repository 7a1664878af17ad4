"""Mutual Information Gap (MIG): how much more one code knows about a factor than any other code.

For each factor ``v_k``, with the codes sorted by their mutual information with it,
``MIG = mean_k (I(z_(1); v_k) - I(z_(2); v_k)) / H(v_k)``, which lies in [0, 1]: 1 when exactly
one code carries all of each factor, 0 when the two best codes carry the same amount.

Estimator (disentanglement_lib's): each code dimension is discretised into 20 equal-width bins
over its observed range; ``I`` and ``H`` are plug-in estimates from contingency tables
(``sklearn.metrics.mutual_info_score``, nats) using the factor-value indices as the factor's
values. Default sample: 10,000 i.i.d. factor combinations. With a single code dimension the
second-best code has ``I = 0``. Factors that are constant in the sample (``H = 0``) are left out
of the mean.

References:
  Chen, Li, Grosse & Duvenaud, "Isolating Sources of Disentanglement in VAEs", NeurIPS 2018,
  eq. (5). Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning of
  Disentangled Representations", ICML 2019, appendix (estimator settings).
"""

from __future__ import annotations

import numpy as np

from aejax.errors import DataError
from aejax.evaluation.disentanglement._discretize import NUM_BINS, histogram_discretize
from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    check_codes,
    sample_codes,
)
from aejax.evaluation.disentanglement._mutual_info import discrete_entropy, discrete_mutual_info


def mig_per_factor(codes: np.ndarray, factors: np.ndarray, *, num_bins: int = NUM_BINS):
    """``[F]`` normalised gaps ``(I_(1) - I_(2)) / H(v_k)`` (NaN for a constant factor)."""
    codes, factors = check_codes(codes, factors, "mig")
    mi = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)  # [D, F]
    top = -np.sort(-mi, axis=0)  # descending per factor
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    entropy = discrete_entropy(factors)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(entropy > 0, (top[0] - second) / entropy, np.nan)


def mig_from_codes(
    codes: np.ndarray, factors: np.ndarray, *, num_bins: int = NUM_BINS
) -> dict[str, float]:
    """MIG of ``codes [N, D]`` against factor indices ``factors int[N, F]``.

    Returns:
      ``{"mig": value in [0, 1]}``.
    """
    gaps = mig_per_factor(codes, factors, num_bins=num_bins)
    if np.isnan(gaps).all():
        raise DataError("mig: every factor is constant in the sample; MIG is undefined")
    return {"mig": float(np.nanmean(gaps))}


def compute_mig(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    num_train: int = 10_000,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """MIG of ``representation_fn`` on ``num_train`` observations sampled from ``ground_truth``."""
    codes, factors = sample_codes(
        ground_truth, representation_fn, np.random.default_rng(seed), num_train
    )
    return mig_from_codes(codes, factors, num_bins=num_bins)
