"""BetaVAE and FactorVAE scores: the sanity triad on constructed codes, and closed-form values.

Both scores are classification accuracies over ``F`` factors, so the bottom of their range is
chance, ``1 / F`` (FactorVAE: 0 when no code varies at all).
"""

from __future__ import annotations

import numpy as np
import pytest
from disentanglement_cases import (
    constant,
    duplicated,
    ground_truth,
    identity,
    make_random,
    partly_mixed,
    subset,
)

from aejax.evaluation.disentanglement import (
    compute_beta_vae,
    compute_factor_vae,
    factor_vae_from_codes,
)
from aejax.evaluation.disentanglement.beta_vae_score import beta_vae_features, sample_pairs
from aejax.evaluation.disentanglement.factor_vae_score import sample_fixed_batches

F = 4
SIZES = dict(num_train=300, num_eval=400)


def _beta(representation):
    return compute_beta_vae(ground_truth(), representation, seed=0, **SIZES)["eval_accuracy"]


def _factor(representation):
    return compute_factor_vae(
        ground_truth(), representation, seed=0, num_variance_estimate=2000, **SIZES
    )["eval_accuracy"]


def test_pairs_share_exactly_the_fixed_factor():
    a, b, fixed = sample_pairs(ground_truth(), np.random.default_rng(0), 50, 64)
    same = a == b  # [P, B, F]
    for p in range(50):
        assert same[p, :, fixed[p]].all()
        others = np.delete(same[p], fixed[p], axis=1)
        assert others.mean() < 0.4  # independent draws: equal with probability 1 / size
    batches, fixed = sample_fixed_batches(ground_truth(), np.random.default_rng(1), 50, 64)
    for p in range(50):
        assert np.unique(batches[p, :, fixed[p]]).size == 1


def test_beta_vae_features_by_hand():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 5, 2))
    expected = [
        [sum(abs(a[p, i, d] - b[p, i, d]) for i in range(5)) / 5 for d in range(2)]
        for p in range(3)
    ]
    np.testing.assert_allclose(beta_vae_features(a, b), expected)


def test_beta_vae_triad():
    assert _beta(identity) > 0.98
    assert _beta(duplicated) > 0.98  # identifiability only: duplicates are not penalised
    assert _beta(constant) < 1 / F + 0.1
    assert _beta(make_random(0)) < 1 / F + 0.1
    # m of F factors captured: those are always identified, the other F - m are confused with
    # each other (accuracy 1 / (F - m) among them): (m + 1) / F in expectation.
    assert _beta(subset(2)) == pytest.approx(3 / F, abs=0.07)
    assert 1 / F + 0.1 < _beta(partly_mixed) <= 1.0


def test_factor_vae_triad():
    assert _factor(identity) == 1.0
    assert _factor(duplicated) == 1.0
    assert _factor(constant) == 0.0  # no active dimension
    assert _factor(make_random(0)) < 1 / F + 0.15  # majority votes lift noise a bit above 1 / F
    # m of F factors captured, one code each: the other factors vote for codes that stand for
    # captured factors, so the accuracy is about m / F.
    assert _factor(subset(2)) == pytest.approx(2 / F, abs=0.08)
    mixed = _factor(partly_mixed)
    assert 2 / F < mixed < 1.0


def test_factor_vae_accuracy_is_the_share_of_captured_factors():
    gt, m = ground_truth(), 2
    rng = np.random.default_rng(0)
    global_codes = subset(m)(gt.sample_factors(rng, 2000))
    batches, fixed = sample_fixed_batches(gt, rng, 700, 64)
    codes = subset(m)(batches.reshape(-1, F)).reshape(700, 64, m)
    s = factor_vae_from_codes(global_codes, codes, fixed, F, num_train=300)
    # Every batch with a captured factor fixed votes for that factor's own code (variance 0)
    # and is right; every other batch votes for a code that stands for a captured factor.
    assert s["eval_accuracy"] == pytest.approx(np.mean(fixed[300:] < m))
    assert s["train_accuracy"] == pytest.approx(np.mean(fixed[:300] < m))
    assert s["num_active_dims"] == m
