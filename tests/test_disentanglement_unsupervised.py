"""The Gaussian total correlation of a representation against closed forms."""

import numpy as np
import pytest

from aejax.evaluation.disentanglement.unsupervised import gaussian_total_correlation


def test_two_correlated_dimensions_give_minus_half_log_one_minus_rho_squared():
    """For a bivariate Gaussian with correlation rho, TC = I(z1; z2) = -0.5 log(1 - rho^2); the
    estimate uses the sample covariance, so compare with the sample correlation's value."""
    rng = np.random.default_rng(0)
    rho = 0.8
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=20_000) * [3.0, 0.5]
    r = np.corrcoef(z, rowvar=False)[0, 1]
    assert gaussian_total_correlation(z) == pytest.approx(-0.5 * np.log(1 - r**2), rel=1e-9)
    assert gaussian_total_correlation(z) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=0.02)


def test_independent_dimensions_and_constant_ones_add_nothing():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(50_000, 3)) * [1.0, 2.0, 0.1]
    assert gaussian_total_correlation(z) == pytest.approx(0.0, abs=2e-4)
    with_constant = np.concatenate([z, np.full((len(z), 1), 7.0)], axis=1)
    assert gaussian_total_correlation(with_constant) == gaussian_total_correlation(z)


def test_block_covariance_is_the_sum_of_the_blocks():
    """TC of independent blocks adds: two correlated pairs give twice one pair's value."""
    rng = np.random.default_rng(2)
    pair = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=(2, 30_000))
    both = np.concatenate([pair[0], pair[1]], axis=1)
    each = gaussian_total_correlation(pair[0]) + gaussian_total_correlation(pair[1])
    assert gaussian_total_correlation(both) == pytest.approx(each, abs=2e-3)
