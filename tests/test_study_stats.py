"""The disentanglement study's summaries against hand-computed references."""

from __future__ import annotations

import numpy as np
import pytest

from aejax.evaluation import study_stats


def _ranks_pearson(x, y):
    """Spearman's rho for data without ties: Pearson's correlation of the ranks."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return np.corrcoef(rx, ry)[0, 1]


def test_rank_correlations_match_the_rank_formula_and_skip_missing_scores():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    b = a + rng.normal(scale=0.5, size=40)
    c = -(a**3)  # a monotone decreasing function of a: rho = -1
    d = rng.normal(size=40)
    d[:5] = np.nan  # e.g. a metric that failed on five members
    names, matrix = study_stats.rank_correlations({"a": a, "b": b, "c": c, "d": d})
    assert names == ["a", "b", "c", "d"]
    np.testing.assert_allclose(np.diag(matrix), 1.0)
    np.testing.assert_allclose(matrix, matrix.T)
    assert matrix[0, 1] == pytest.approx(_ranks_pearson(a, b))
    assert matrix[0, 2] == pytest.approx(-1.0)
    assert matrix[0, 3] == pytest.approx(_ranks_pearson(a[5:], d[5:]))


def test_rank_correlation_of_a_constant_column_is_nan():
    _, matrix = study_stats.rank_correlations({"a": [1.0, 2.0, 3.0], "flat": [0.5, 0.5, 0.5]})
    assert np.isnan(matrix[0, 1]) and np.isnan(matrix[1, 1])


def test_share_explained_is_one_for_pure_hyperparameter_effects_and_zero_for_pure_seed_noise():
    values = [1, 1, 2, 2, 4, 4]
    assert study_stats.share_explained(values, [0.1, 0.1, 0.5, 0.5, 0.9, 0.9]) == pytest.approx(1)
    assert study_stats.share_explained(values, [0.2, 0.8, 0.8, 0.2, 0.3, 0.7]) == pytest.approx(0)


def test_share_explained_matches_a_hand_computed_anova():
    # groups a: 1, 3 (mean 2); b: 5, 7, 9 (mean 7); grand mean 5
    # between = 2 (2 - 5)^2 + 3 (7 - 5)^2 = 30; total = 16 + 4 + 0 + 4 + 16 = 40
    share = study_stats.share_explained(["a", "a", "b", "b", "b"], [1, 3, 5, 7, 9])
    assert share == pytest.approx(30 / 40)
    # a NaN score is left out: the same as without that member
    with_nan = study_stats.share_explained(["a", "a", "b", "b", "b", "b"], [1, 3, 5, 7, 9, np.nan])
    assert with_nan == pytest.approx(30 / 40)
    assert np.isnan(study_stats.share_explained(["a", "b"], [0.3, 0.3]))


def test_best_by_median_ignores_one_lucky_seed():
    values = [1, 1, 1, 8, 8, 8]
    scores = [0.50, 0.55, 0.60, 0.10, 0.20, 0.99]  # 8 has the best member, 1 the best median
    assert study_stats.best_by_median(values, scores) == 1
    assert study_stats.best_by_median(["x", "y"], [np.nan, 0.1]) == "y"
