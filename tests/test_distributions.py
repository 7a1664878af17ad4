"""Distributions against numpy formulas; reparameterisation statistics and gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax.distributions import Bernoulli, Delta, DiagonalGaussian, Gaussian, StandardNormal
from aejax.distributions.posteriors import LOG_VAR_MAX, LOG_VAR_MIN, clamp_log_var

RNG = np.random.default_rng(0)


def np_gauss_kl(m1, lv1, m2, lv2):
    """KL(N(m1, e^lv1) || N(m2, e^lv2)) per dim, the textbook formula in variances."""
    v1, v2 = np.exp(lv1), np.exp(lv2)
    return np.log(np.sqrt(v2) / np.sqrt(v1)) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5


def test_gaussian_kl_matches_numpy_formula():
    m1, lv1, m2, lv2 = (RNG.normal(size=(5, 3)).astype(np.float32) for _ in range(4))
    q, p = DiagonalGaussian(m1, lv1), DiagonalGaussian(m2, lv2)
    np.testing.assert_allclose(q.kl_per_dim(p), np_gauss_kl(m1, lv1, m2, lv2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.kl_divergence(p), np_gauss_kl(m1, lv1, m2, lv2).sum(-1), rtol=1e-5)


def test_standard_normal_kl_closed_form_and_monte_carlo():
    m, lv = np.array([[0.5, -1.0]], np.float32), np.array([[-0.3, 0.4]], np.float32)
    q = DiagonalGaussian(m, lv)
    closed = 0.5 * (np.exp(lv) + m**2 - 1 - lv)
    np.testing.assert_allclose(StandardNormal(2).kl_from(q), closed, rtol=1e-6)
    z = q.sample(jax.random.key(1), (200_000,))
    mc = (q.log_prob(z) - StandardNormal(2).log_prob(z)).mean()
    np.testing.assert_allclose(mc, closed.sum(), rtol=2e-2)


def test_gaussian_log_prob_matches_numpy():
    m, lv = RNG.normal(size=(4, 6)).astype(np.float32), RNG.normal(size=(4, 6)).astype(np.float32)
    z = RNG.normal(size=(4, 6)).astype(np.float32)
    want = (-0.5 * np.log(2 * np.pi * np.exp(lv)) - (z - m) ** 2 / (2 * np.exp(lv))).sum(-1)
    np.testing.assert_allclose(DiagonalGaussian(m, lv).log_prob(z), want, rtol=1e-5)


def test_bernoulli_log_prob_is_minus_bce():
    logits = RNG.normal(size=(3, 4, 4, 1)).astype(np.float32) * 3
    x = (RNG.random((3, 4, 4, 1)) > 0.5).astype(np.float32)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    want = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum((1, 2, 3))
    np.testing.assert_allclose(Bernoulli(logits).log_prob(x), want, rtol=1e-5)
    # Extreme logits stay finite (computed from logits, not from sigmoid).
    assert np.isfinite(Bernoulli(jnp.full((1, 1, 1, 1), 200.0)).log_prob(jnp.zeros((1, 1, 1, 1))))


@pytest.mark.parametrize("log_scale", [0.0, -1.5, "per_pixel"])
def test_gaussian_likelihood_matches_numpy(log_scale):
    loc = RNG.random((2, 3, 3, 1)).astype(np.float32)
    x = RNG.random((2, 3, 3, 1)).astype(np.float32)
    ls = (
        RNG.normal(size=loc.shape).astype(np.float32)
        if log_scale == "per_pixel"
        else np.float32(log_scale)
    )
    s = np.exp(ls)
    want = -0.5 * np.log(2 * np.pi * s**2) - (x - loc) ** 2 / (2 * s**2)
    want = np.broadcast_to(want, loc.shape).sum((1, 2, 3))
    np.testing.assert_allclose(Gaussian(loc, jnp.asarray(ls)).log_prob(x), want, rtol=1e-5)


def test_fixed_unit_gaussian_is_half_squared_error_plus_constant():
    loc, x = (
        RNG.random((2, 4, 4, 1)).astype(np.float32),
        RNG.random((2, 4, 4, 1)).astype(np.float32),
    )
    nll = -Gaussian(loc, jnp.float32(0.0)).log_prob(x)
    want = 0.5 * ((x - loc) ** 2).sum((1, 2, 3)) + 16 * 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(nll, want, rtol=1e-5)


def test_reparameterised_sample_has_posterior_mean_and_variance():
    loc = np.array([1.0, -2.0, 0.0], np.float32)
    log_var = np.array([0.0, -2.0, 1.0], np.float32)
    z = np.asarray(DiagonalGaussian(loc, log_var).sample(jax.random.key(3), (100_000,)))
    assert z.shape == (100_000, 3)
    np.testing.assert_allclose(z.mean(0), loc, atol=0.02)
    np.testing.assert_allclose(z.var(0), np.exp(log_var), rtol=0.02)


def test_gradients_reach_mean_and_log_variance_through_the_sample():
    eps_key = jax.random.key(7)

    def f(loc, log_var):
        return (DiagonalGaussian(loc, log_var).sample(eps_key) ** 2).sum()

    loc, log_var = jnp.array([0.3, -0.2]), jnp.array([0.1, -0.5])
    g_loc, g_lv = jax.grad(f, argnums=(0, 1))(loc, log_var)
    eps = (DiagonalGaussian(loc, log_var).sample(eps_key) - loc) / jnp.exp(0.5 * log_var)
    z = loc + jnp.exp(0.5 * log_var) * eps
    # d/dloc z^2 = 2z ; d/dlog_var z^2 = 2z * eps * 0.5 * exp(0.5 log_var)
    np.testing.assert_allclose(g_loc, 2 * z, rtol=1e-5)
    np.testing.assert_allclose(g_lv, z * eps * jnp.exp(0.5 * log_var), rtol=1e-5)
    assert np.all(np.abs(g_lv) > 0)


def test_log_variance_clamp_bounds_and_passes_gradient_inside():
    lv = jnp.array([-1e4, 0.5, 1e4])
    np.testing.assert_array_equal(clamp_log_var(lv), [LOG_VAR_MIN, 0.5, LOG_VAR_MAX])
    g = jax.grad(lambda v: clamp_log_var(v).sum())(lv)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    q = DiagonalGaussian(jnp.zeros(3), clamp_log_var(lv))
    assert np.isfinite(StandardNormal(3).kl_from(q)).all()


def test_delta_is_deterministic():
    d = Delta(jnp.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(d.sample(jax.random.key(0)), d.sample(jax.random.key(1)))
    assert d.sample(jax.random.key(0), (3,)).shape == (3, 1, 2)
