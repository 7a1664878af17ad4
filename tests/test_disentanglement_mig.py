"""MIG: the sanity triad on constructed codes, and its estimator against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from disentanglement_cases import (
    constant,
    duplicated,
    full_grid,
    ground_truth,
    identity,
    iid,
    make_random,
    pair_mixed,
    partly_mixed,
    subset,
)

from aejax.errors import DataError
from aejax.evaluation.disentanglement import compute_mig, mig_from_codes
from aejax.evaluation.disentanglement._discretize import histogram_discretize


def _mi_by_hand(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information in nats from the joint frequency table, with explicit sums."""
    n = len(a)
    joint: dict = {}
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        joint[(x, y)] = joint.get((x, y), 0) + 1
    pa = {x: np.sum(a == x) / n for x in set(a.tolist())}
    pb = {y: np.sum(b == y) / n for y in set(b.tolist())}
    return sum(c / n * math.log((c / n) / (pa[x] * pb[y])) for (x, y), c in joint.items())


def test_top_is_one_and_duplicates_score_zero_on_the_full_grid():
    f = full_grid()  # factors exactly independent: MI between different factors is exactly 0
    assert mig_from_codes(identity(f), f)["mig"] == pytest.approx(1.0, abs=1e-12)
    assert mig_from_codes(duplicated(f), f)["mig"] == pytest.approx(0.0, abs=1e-12)


def test_bottom_constant_and_random():
    f = iid(3000, seed=0)
    assert mig_from_codes(constant(f), f)["mig"] == 0.0
    assert mig_from_codes(make_random(1)(f), f)["mig"] < 0.03


def test_in_between_partial_and_mixed_codes():
    f = full_grid()
    # m of F factors captured, one code each, the rest not at all: MIG = m / F exactly.
    assert mig_from_codes(subset(2)(f), f)["mig"] == pytest.approx(2 / 4, abs=1e-12)
    # Two factors shared by a code (one of them also alone in another code): 0.5 < MIG < 1.
    assert 0.55 < mig_from_codes(partly_mixed(f), f)["mig"] < 0.95
    # Codes f0 + f1 and f0 - f1 know equally much about f0 (and f1): those gaps are exactly 0.
    assert mig_from_codes(pair_mixed(f), f)["mig"] == pytest.approx(0.0, abs=1e-12)


def test_value_against_hand_computed_mutual_information():
    rng = np.random.default_rng(3)
    factors = rng.integers(0, 3, size=(40, 2))
    # Codes with few distinct integer values that span their range: 20 equal-width bins map the
    # values one-to-one to bins, so MI on bins equals MI on the raw values.
    codes = np.stack(
        [factors[:, 0] + rng.integers(0, 2, 40), rng.integers(0, 4, 40), factors[:, 1] * 2], 1
    )
    gaps = []
    for j in range(2):
        mi = sorted((_mi_by_hand(codes[:, i], factors[:, j]) for i in range(3)), reverse=True)
        gaps.append((mi[0] - mi[1]) / _mi_by_hand(factors[:, j], factors[:, j]))
    assert mig_from_codes(codes.astype(float), factors)["mig"] == pytest.approx(np.mean(gaps))


def test_discretizer_matches_numpy_histogram_counts():
    codes = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 5.0, 0.01]
    bins = histogram_discretize(codes, 20)
    assert bins.min() >= 1 and bins.max() <= 20
    for d in range(3):
        counts = np.bincount(bins[:, d], minlength=21)[1:]
        np.testing.assert_array_equal(counts, np.histogram(codes[:, d], bins=20)[0])


def test_wrapper_samples_the_ground_truth():
    gt = ground_truth()
    assert compute_mig(gt, identity, seed=0, num_train=3000)["mig"] > 0.95
    assert compute_mig(gt, constant, seed=0, num_train=500)["mig"] == 0.0


def test_mismatched_shapes_are_refused():
    with pytest.raises(DataError, match="same N"):
        mig_from_codes(np.zeros((5, 2)), np.zeros((4, 2), int))
