"""DCI: the sanity triad on constructed codes, and the entropy formulas against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from disentanglement_cases import (
    constant,
    duplicated,
    ground_truth,
    identity,
    iid,
    make_random,
    pair_mixed,
)

from aejax.evaluation.disentanglement import compute_dci, dci_from_codes
from aejax.evaluation.disentanglement.dci import completeness, disentanglement

F = 4


def _dci(representation, n_train=1500, n_test=500, **kw):
    f_train, f_test = iid(n_train, seed=0), iid(n_test, seed=1)
    return dci_from_codes(representation(f_train), f_train, representation(f_test), f_test, **kw)


def _best_constant_rate(factors) -> float:
    """Mean over factors of the frequency of the commonest value: the best accuracy of any
    prediction that ignores the codes."""
    return float(np.mean([np.bincount(factors[:, j]).max() / len(factors) for j in range(F)]))


def test_top_ground_truth_codes():
    s = _dci(identity)
    assert s["disentanglement"] > 0.99 and s["completeness"] > 0.99
    assert s["informativeness_test"] > 0.99


def test_bottom_constant_and_random_codes():
    s = _dci(constant)
    assert s["disentanglement"] == pytest.approx(0.0, abs=1e-6)
    assert s["completeness"] == pytest.approx(0.0, abs=1e-6)
    assert s["informativeness_test"] <= _best_constant_rate(iid(500, seed=1)) < 0.3
    s = _dci(make_random(0))
    assert s["disentanglement"] < 0.1 and s["completeness"] < 0.1
    assert s["informativeness_test"] < 0.3  # chance is between 1/8 and 1/4


def test_in_between_duplicated_and_mixed_codes():
    s = _dci(duplicated)
    # Each factor's importance splits evenly over its two copies out of 2F codes.
    assert s["disentanglement"] > 0.98
    assert s["completeness"] == pytest.approx(1 - math.log(2) / math.log(2 * F), abs=0.03)
    s = _dci(pair_mixed)
    # Each code serves two of F = 4 factors equally (and each factor two codes): 1 - log_4(2).
    assert s["disentanglement"] == pytest.approx(0.5, abs=0.05)
    assert s["completeness"] == pytest.approx(0.5, abs=0.05)
    assert s["informativeness_test"] > 0.99


def test_scores_against_hand_computed_entropies():
    importance = np.random.default_rng(0).uniform(size=(5, 3)) * [[1, 0.2, 3]]
    total = importance.sum()
    d = c = 0.0
    for i in range(5):
        p = importance[i] / importance[i].sum()
        d += importance[i].sum() / total * (1 + sum(q * math.log(q, 3) for q in p))
    for j in range(3):
        p = importance[:, j] / importance[:, j].sum()
        c += importance[:, j].sum() / total * (1 + sum(q * math.log(q, 5) for q in p))
    assert disentanglement(importance) == pytest.approx(d, abs=1e-9)
    assert completeness(importance) == pytest.approx(c, abs=1e-9)
    assert disentanglement(np.eye(3)) == pytest.approx(1.0) == completeness(np.eye(3))
    assert disentanglement(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-9)


def test_gradient_boosting_importances_agree_on_the_ground_truth():
    # disentanglement_lib's estimator, on two small factors to keep the boosting stages few.
    f_train, f_test = iid(300, seed=0, sizes=(2, 3)), iid(100, seed=1, sizes=(2, 3))
    s = dci_from_codes(f_train * 1.0, f_train, f_test * 1.0, f_test, model="gradient_boosting")
    assert s["disentanglement"] > 0.95 and s["completeness"] > 0.95


def test_wrapper_and_unknown_model():
    s = compute_dci(ground_truth(), identity, seed=0, num_train=600, num_test=200)
    assert s["disentanglement"] > 0.95
    with pytest.raises(ValueError, match="random_forest"):
        _dci(identity, n_train=50, n_test=10, model="lasso")
