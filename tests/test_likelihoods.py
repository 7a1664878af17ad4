"""Pixel likelihoods against independent references: quadrature for the continuous Bernoulli,
numpy/scipy logistic CDF differences for the discretized logistics, and one contract for every
likelihood the config offers. (Each new likelihood also trains through ``aejax.train`` in
``test_priors.py::test_each_prior_and_likelihood_trains_without_nan``.)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config
from scipy import integrate, special, stats

from aejax import build
from aejax.distributions import (
    ContinuousBernoulli,
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    bits_per_dim,
)
from aejax.distributions.likelihoods import continuous_bernoulli_log_norm
from aejax.errors import ConfigError
from aejax.models import LogisticMixtureHead

RNG = np.random.default_rng(0)
LEVELS = np.arange(256) / 255.0
# lambda values across (0, 1), dense around 0.5 where the closed form is 0/0.
LAMBDAS = [1e-4, 0.01, 0.2, 0.45, 0.49, 0.499, 0.4999, 0.49999, 0.5, 0.50001, 0.5001, 0.501]
LAMBDAS += [0.51, 0.7, 0.99, 0.9999]


def _pixel(value) -> np.ndarray:
    return np.asarray(value, np.float32).reshape(1, 1, 1, 1)


@jax.jit
def _cb_log_density(x, logit):
    """log p(x) of a one-pixel continuous Bernoulli, scalars in, scalar out."""
    return ContinuousBernoulli(logits=logit.reshape(1, 1, 1, 1)).log_prob(x.reshape(1, 1, 1, 1))[0]


# ---------------------------------------------------------------- continuous Bernoulli


def test_continuous_bernoulli_normaliser_matches_quadrature():
    logits = np.array([special.logit(lam) for lam in LAMBDAS], np.float32)
    got = np.asarray(jax.jit(continuous_bernoulli_log_norm)(logits), np.float64)
    for g, logit in zip(got, logits, strict=True):
        lam = special.expit(np.float64(logit))  # the lambda the float32 logit stands for
        area, _ = integrate.quad(lambda x, lam=lam: lam**x * (1 - lam) ** (1 - x), 0, 1)
        np.testing.assert_allclose(g, -math.log(area), rtol=1e-6, atol=1e-6)
    # The limit at lambda = 0.5 is exactly log 2.
    np.testing.assert_allclose(got[LAMBDAS.index(0.5)], math.log(2.0), rtol=1e-7)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("logit", [-30.0, -3.0, -1e-3, 0.0, 1e-4, 0.08, 0.12, 2.0, 30.0])
def test_continuous_bernoulli_density_integrates_to_one_and_has_its_mean(logit):
    eta = jnp.float32(logit)
    density = lambda x: math.exp(float(_cb_log_density(jnp.float32(x), eta)))  # noqa: E731
    # Steep densities (|eta| = 30) concentrate within ~1/30 of an end: tell quad where.
    points = [1e-3, 0.03, 0.1, 0.9, 0.97, 0.999]
    mass, _ = integrate.quad(density, 0, 1, points=points, limit=200)
    np.testing.assert_allclose(mass, 1.0, rtol=2e-6)
    mean, _ = integrate.quad(lambda x: x * density(x), 0, 1, points=points, limit=200)
    got = ContinuousBernoulli(logits=_pixel(logit)).mean()
    np.testing.assert_allclose(float(got.reshape(())), mean, rtol=1e-5, atol=1e-6)


def test_continuous_bernoulli_log_normaliser_gradient_is_smooth_across_branches():
    """d/d eta log(eta / tanh(eta/2)) by float64 central differences, on both sides of the
    Taylor/closed-form switch (|eta| = 0.1) and at 0, where the derivative is 0."""
    etas = np.array([0.0, 1e-4, 0.05, 0.0999, 0.1001, 0.3, -2.0, 15.0], np.float32)
    got = jax.jit(jax.vmap(jax.grad(continuous_bernoulli_log_norm)))(etas)

    def log_norm64(e):
        return np.log(e / np.tanh(e / 2)) if e != 0 else np.log(2.0)

    h = 1e-5
    want = [
        0.0 if e == 0 else (log_norm64(e + h) - log_norm64(e - h)) / (2 * h)
        for e in etas.astype(np.float64)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_continuous_bernoulli_samples_follow_the_cdf():
    """Kolmogorov-Smirnov distance to the CDF F(x) = expm1(eta x) / expm1(eta)."""
    logits = np.array([-6.0, -0.5, 0.0, 1e-5, 3.0], np.float32)
    dist = ContinuousBernoulli(logits=logits.reshape(1, 1, 1, 5))
    x = np.asarray(jax.jit(lambda k: dist.sample(k, (20_000,)))(jax.random.key(1)))[:, 0, 0, 0]
    assert x.shape == (20_000, 5) and (x >= 0).all() and (x <= 1).all()
    for j, eta in enumerate(logits.astype(np.float64)):
        cdf = (lambda v: v) if eta == 0 else (lambda v, e=eta: np.expm1(e * v) / np.expm1(e))
        assert stats.kstest(x[:, j], cdf).statistic < 0.015


# ---------------------------------------------------------------- discretized logistic


def _numpy_bin_probs(loc: float, scale: float) -> np.ndarray:
    """float64 ``P(k)`` for the 256 levels: logistic CDF differences, outer edges at -+inf."""
    edges = np.concatenate([[-np.inf], (np.arange(255) + 0.5) / 255, [np.inf]])
    lower = np.diff(stats.logistic.cdf(edges, loc=loc, scale=scale))
    # Above loc, differences of survival functions keep the tail digits that 1 - cdf would lose.
    upper = -np.diff(stats.logistic.sf(edges, loc=loc, scale=scale))
    return np.where(LEVELS >= loc, upper, lower)


SETTINGS = [(0.5, 0.1), (0.0, 0.01), (1.2, 1.0), (-0.3, 3e-4), (0.37, 3e-4), (0.5, 100.0)]


@pytest.mark.parametrize("loc, scale", SETTINGS)
def test_discretized_logistic_bins_sum_to_one_and_match_numpy(loc, scale):
    x = LEVELS.astype(np.float32).reshape(256, 1, 1, 1)
    dist = DiscretizedLogistic(loc=_pixel(loc), log_scale=_pixel(math.log(scale)))
    log_p = np.asarray(jax.jit(dist.log_prob)(x), np.float64)  # [256]
    want = _numpy_bin_probs(loc, scale)
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.exp(log_p), want, rtol=1e-4, atol=1e-6)
    seen = want > 1e-30  # where float64 itself still resolves the mass
    np.testing.assert_allclose(log_p[seen], np.log(want[seen]), rtol=1e-4, atol=1e-4)
    assert np.isfinite(log_p).all()


def test_discretized_logistic_far_tail_is_finite_and_exact():
    """Masses of ~1e-52 underflow float32 as CDF differences; the log form keeps them."""
    loc, scale = 0.0, math.exp(-5.0)
    dist = DiscretizedLogistic(loc=_pixel(loc), log_scale=_pixel(-5.0))
    x = _pixel(0.8)
    a, b = (0.8 + 0.5 / 255 - loc) / scale, (0.8 - 0.5 / 255 - loc) / scale
    want = np.log(special.expit(-b) - special.expit(-a))  # upper tail: float64 resolves it
    np.testing.assert_allclose(float(jax.jit(dist.log_prob)(x)[0]), want, rtol=1e-5)
    assert want < -100


def test_discretized_logistic_mixture_matches_numpy_and_sums_to_one():
    k = 3
    logits = RNG.normal(size=k)
    locs = np.array([0.1, 0.5, 0.95])
    scales = np.array([0.02, 0.2, 0.005])
    dist = DiscretizedLogisticMixture(
        logits=np.asarray(logits, np.float32).reshape(1, 1, 1, 1, k),
        loc=np.asarray(locs, np.float32).reshape(1, 1, 1, 1, k),
        log_scale=np.log(scales).astype(np.float32).reshape(1, 1, 1, 1, k),
    )
    x = LEVELS.astype(np.float32).reshape(256, 1, 1, 1)
    got = np.exp(np.asarray(jax.jit(dist.log_prob)(x), np.float64))
    weights = special.softmax(logits)
    want = sum(w * _numpy_bin_probs(m, s) for w, m, s in zip(weights, locs, scales, strict=True))
    np.testing.assert_allclose(got.sum(), 1.0, rtol=1e-5)
    # float32 loses ~1e-5 relative in (level - loc) / scale when scale is 0.005.
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(float(dist.mean().reshape(())), (LEVELS * want).sum(), rtol=1e-5)


def test_discretized_logistic_mean_and_samples_match_bin_probabilities():
    loc, scale = 0.3, 0.02
    dist = DiscretizedLogistic(loc=_pixel(loc), log_scale=_pixel(math.log(scale)))
    want = _numpy_bin_probs(loc, scale)
    np.testing.assert_allclose(float(dist.mean().reshape(())), (LEVELS * want).sum(), rtol=1e-5)
    draws = np.asarray(jax.jit(lambda k: dist.sample(k, (40_000,)))(jax.random.key(3))).ravel()
    levels = np.round(draws * 255)
    np.testing.assert_allclose(draws * 255, levels, atol=1e-3)  # on the 8-bit grid
    freq = np.bincount(levels.astype(int), minlength=256) / draws.size
    assert 0.5 * np.abs(freq - want).sum() < 0.02  # total variation distance


def test_bits_per_dim_conversions():
    d = 28 * 28
    # A model giving each of 256 levels probability 1/256 codes 8 bits per dimension.
    np.testing.assert_allclose(bits_per_dim(d * math.log(256.0), d), 8.0, rtol=1e-12)
    # The uniform density on [0, 1]^d has -log p = 0 nats: 8 bits/dim on the 256-level scale.
    np.testing.assert_allclose(bits_per_dim(0.0, d, density_bins=256), 8.0, rtol=1e-12)
    nats = np.array([100.0, 200.0])
    np.testing.assert_allclose(bits_per_dim(nats, d), nats / d / math.log(2.0))


def test_logistic_mixture_head_channel_layout():
    """The decoder's 3KC channels are K logit blocks, K location blocks, K log-scale blocks."""
    k, c = 2, 3
    out = np.arange(3 * k * c, dtype=np.float32).reshape(1, 1, 1, 3 * k * c) / 100
    dist = LogisticMixtureHead(num_components=k).apply({}, out)
    assert dist.logits.shape == (1, 1, 1, c, k)
    for comp in range(k):
        for ch in range(c):
            np.testing.assert_allclose(dist.logits[0, 0, 0, ch, comp], out[..., comp * c + ch])
            np.testing.assert_allclose(
                dist.loc[0, 0, 0, ch, comp], out[..., (k + comp) * c + ch] + 0.5, rtol=1e-6
            )
            np.testing.assert_allclose(
                dist.log_scale[0, 0, 0, ch, comp], out[..., (2 * k + comp) * c + ch], rtol=1e-6
            )


# ---------------------------------------------------------------- contract and config

LIKELIHOODS = [
    ("bernoulli", {}),
    ("gaussian", {"model.gaussian_sigma": "fixed"}),
    ("gaussian", {"model.gaussian_sigma": "shared"}),
    ("gaussian", {"model.gaussian_sigma": "per_pixel"}),
    ("continuous_bernoulli", {}),
    ("logistic", {}),
    ("logistic_mixture", {"model.logistic_components": 3}),
]


@pytest.mark.parametrize(
    "likelihood, overrides", LIKELIHOODS, ids=[f"{n}-{o}" for n, o in LIKELIHOODS]
)
def test_likelihood_contract(likelihood, overrides):
    """Under jit: log_prob [B] (also with a leading sample axis), finite gradients even for extreme
    decoder outputs, mean and sample shaped like the image and inside [0, 1] where they should."""
    config = tiny_config(**{"model.likelihood": likelihood, **overrides})
    head = build.build_model(config, (4, 4, 3)).likelihood_head
    out = RNG.normal(size=(5, 4, 4, 3 * head.params_per_pixel)).astype(np.float32) * 3
    out[0] = 60.0  # saturated outputs must not give NaN/Inf
    out[1] = -60.0
    x = np.round(RNG.random((5, 4, 4, 3)) * 255).astype(np.float32) / 255
    x[2] = np.round(x[2])  # binary pixels too
    variables = jax.jit(head.init)(jax.random.key(0), out)

    @jax.jit
    def probe(variables, out, x, key):
        def total(variables, out):
            return head.apply(variables, out).log_prob(x).sum()

        dist = head.apply(variables, out)
        return {
            "log_prob": dist.log_prob(x),
            "log_prob_s": dist.log_prob(jnp.stack([x, x])),
            "grads": jax.grad(total, argnums=(0, 1))(variables, out),
            "mean": dist.mean(),
            "sample": dist.sample(key),
        }

    r = probe(variables, out, x, jax.random.key(1))
    assert r["log_prob"].shape == (5,)
    np.testing.assert_allclose(r["log_prob_s"], np.stack([r["log_prob"]] * 2), rtol=1e-6)
    assert np.isfinite(np.asarray(r["log_prob"])).all()
    assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree_util.tree_leaves(r["grads"]))
    assert r["mean"].shape == x.shape and r["sample"].shape == x.shape
    if likelihood != "gaussian":
        for name in ("mean", "sample"):
            v = np.asarray(r[name])
            assert (v >= 0).all() and (v <= 1).all(), name
    if likelihood in ("continuous_bernoulli", "logistic", "logistic_mixture"):
        # Normalised over [0, 1] (density or 256-level mass): never above 0 nats per pixel for
        # the discrete ones; the continuous Bernoulli density may exceed 1, so only finiteness.
        if likelihood != "continuous_bernoulli":
            assert (np.asarray(r["log_prob"]) <= 1e-3).all()


@pytest.mark.parametrize(
    "overrides, pattern",
    [
        (
            {"model.likelihood": "poisson"},
            r"model.likelihood='poisson' .*continuous_bernoulli, logistic, logistic_mixture",
        ),
        (
            {"model.likelihood": "logistic_mixture", "model.logistic_components": 0},
            "model.logistic_components",
        ),
    ],
)
def test_invalid_likelihood_config_is_a_config_error(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        build.build_model(tiny_config(**overrides), (16, 16, 1))
