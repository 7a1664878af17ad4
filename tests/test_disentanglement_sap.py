"""SAP: the sanity triad on constructed codes, and the score matrix against scipy / closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from disentanglement_cases import (
    constant,
    duplicated,
    ground_truth,
    identity,
    iid,
    make_random,
    partly_mixed,
    subset,
)

from aejax.errors import DataError
from aejax.evaluation.disentanglement import compute_sap, sap_from_codes
from aejax.evaluation.disentanglement.sap import score_matrix


def _sap(representation, categorical=None):
    f_train, f_test = iid(2000, seed=0), iid(500, seed=1)
    return sap_from_codes(
        representation(f_train), f_train, representation(f_test), f_test, categorical=categorical
    )["sap"]


def test_top_ground_truth_codes():
    assert _sap(identity) > 0.95  # R^2 = 1 for the own code, about 0 for the others


def test_bottom_constant_random_and_duplicated_codes():
    assert _sap(constant) == 0.0
    assert _sap(make_random(0)) < 0.02
    # Two identical codes predict every factor equally well: the gap is exactly 0.
    assert _sap(duplicated) == 0.0
    assert _sap(duplicated, categorical=(True, False, True, False)) == 0.0


def test_in_between_partial_and_mixed_codes():
    # m of F factors captured, one code each: SAP is close to m / F.
    assert _sap(subset(2)) == pytest.approx(0.5, abs=0.02)
    assert 0.5 < _sap(partly_mixed) < 0.95


def test_ordinal_scores_are_squared_correlations():
    f = iid(300, seed=2)
    codes = f @ np.random.default_rng(0).normal(size=(4, 3))
    s = score_matrix(codes, f, codes, f, categorical=(False,) * 4)
    for i in range(3):
        for j in range(4):
            assert s[i, j] == pytest.approx(
                scipy.stats.linregress(codes[:, i], f[:, j]).rvalue ** 2
            )


def test_categorical_scores_are_balanced_accuracies():
    f = iid(600, seed=3, sizes=(2, 3))
    # Code 0 separates factor 0's two values perfectly; code 1 is noise.
    codes = np.stack([f[:, 0] * 3.0 - 7.0, np.random.default_rng(0).normal(size=600)], 1)
    s = score_matrix(codes[:400], f[:400], codes[400:], f[400:], categorical=(True, True))
    assert s[0, 0] == 1.0
    assert abs(s[1, 0] - 0.5) < 0.12  # chance for two balanced classes
    # SAP is the mean over factors of the gap between the two best codes.
    gaps = [sorted(s[:, j])[-1] - sorted(s[:, j])[-2] for j in range(2)]
    got = sap_from_codes(codes[:400], f[:400], codes[400:], f[400:], categorical=(True, True))
    assert got["sap"] == pytest.approx(np.mean(gaps))


def test_wrapper_uses_the_ground_truth_flags():
    gt = ground_truth(categorical=(True, False, False, False))
    assert compute_sap(gt, constant, seed=0, num_train=300, num_test=100)["sap"] == 0.0
    with pytest.raises(DataError, match="categorical"):
        sap_from_codes(
            np.ones((4, 1)),
            np.ones((4, 2), int),
            np.ones((4, 1)),
            np.ones((4, 2), int),
            categorical=(True,),
        )
