"""Modularity and explicitness: the sanity triad on constructed codes, and the formula by hand."""

from __future__ import annotations

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
)

from aejax.evaluation.disentanglement import compute_modularity, modularity_from_codes
from aejax.evaluation.disentanglement.modularity import modularity

EQUAL = (5, 5, 5, 5)  # equal factor sizes: the plug-in MI bias is the same for every factor


def _scores(representation, factors, test=None):
    test = factors if test is None else test
    return modularity_from_codes(representation(factors), factors, representation(test), test)


def test_top_ground_truth_and_duplicated_codes():
    f = full_grid(EQUAL)  # factors exactly independent: codes carry no MI with other factors
    for representation in (identity, duplicated):  # modularity does not penalise duplicates
        s = _scores(representation, f)
        assert s["modularity"] == pytest.approx(1.0, abs=1e-12)
        assert s["explicitness_test"] > 0.97


def test_bottom_constant_and_codes_informative_about_every_factor():
    f_train, f_test = iid(2000, 0, EQUAL), iid(500, 1, EQUAL)
    s = _scores(constant, f_train, f_test)
    assert s["modularity"] == 0.0
    assert s["explicitness_test"] == pytest.approx(0.5)  # constant scores: AUC of a coin
    # disentanglement_lib's bad case: each example's factor values in a random order, so every
    # code carries the same information about every factor (up to the sampling noise of the MI
    # estimates, which lifts the largest above the rest).
    rng = np.random.default_rng(0)
    shuffled = _scores(lambda x: rng.permuted(identity(x), axis=1), f_train, f_test)
    assert shuffled["modularity"] < 0.25
    noise = _scores(make_random(1), f_train, f_test)
    assert abs(noise["explicitness_test"] - 0.5) < 0.05


def test_in_between_pair_mixed_codes():
    # Each code carries two of the F = 4 factors equally and nothing of the other two:
    # delta = 1 / (F - 1), so modularity = 2 / 3 exactly on the full grid.
    s = _scores(pair_mixed, full_grid(EQUAL))
    assert s["modularity"] == pytest.approx(2 / 3, abs=1e-12)
    assert s["explicitness_test"] > 0.9


def test_formula_by_hand():
    mi = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 1.0, 1.0]])
    # Per code 1 - (sum of squares - max^2) / (max^2 (F - 1)): 1, 1 - 1/2, 0 (no information),
    # 1 - 2/8.
    assert modularity(mi) == pytest.approx(np.mean([1.0, 0.5, 0.0, 0.75]))


def test_wrapper():
    s = compute_modularity(ground_truth(), identity, seed=0, num_train=1000, num_test=300)
    assert s["modularity"] > 0.9 and s["explicitness_test"] > 0.9
