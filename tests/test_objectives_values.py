"""Objective values against independent references: closed forms, numpy loops, finite
differences and hand-computed schedules."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.distributions import DiagonalGaussian, StandardNormal
from aejax.objectives import iwae, negative_elbo, reconstruction
from aejax.objectives.compose import with_corruption
from aejax.objectives.decomposed import aggregate_log_densities, dip_covariance, dip_terms
from aejax.objectives.kernels import IMQ_SCALES, mmd_unbiased
from aejax.objectives.kl import free_bits, group_kl, kl_per_dim, kl_summary
from aejax.objectives.regularizers import bernoulli_kl, corrupt, jacobian_frobenius_sq
from aejax.objectives.schedules import cyclical, kl_weight, linear_capacity, linear_warmup
from aejax.train.run import init_state

SHAPE = (8, 8, 1)
RECON = {"objective.name": "reconstruction"}


@pytest.fixture(autouse=True)
def _fast_compile():
    """Skip XLA's optimisation passes (compile time dominates these small checks); restored
    afterwards."""
    before = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def _tiny(key, **overrides):
    config = tiny_config(
        **{"model.latent_dim": 3, "model.encoder.hidden": (16,), "model.decoder.hidden": (16,)},
        **overrides,
    )
    exp = build.build_experiment(config, SHAPE, 256)
    params = init_state(exp, SHAPE, key).params
    x = jnp.asarray(np.random.default_rng(1).random((16, *SHAPE)) > 0.5, jnp.float32)
    return exp.model, {"params": params}, {"image": x}


# ---------------------------------------------------------------- KL, free bits, schedules


def test_gaussian_kl_per_dim_matches_closed_form_and_monte_carlo(key):
    rng = np.random.default_rng(0)
    loc, log_var = rng.normal(size=(3, 4)), rng.normal(scale=0.5, size=(3, 4))
    q = DiagonalGaussian(jnp.asarray(loc, jnp.float32), jnp.asarray(log_var, jnp.float32))
    prior = StandardNormal(4)
    kl = np.asarray(kl_per_dim(q, prior, q.sample(key)))
    closed = 0.5 * (np.exp(log_var) + loc**2 - 1.0 - log_var)
    np.testing.assert_allclose(kl, closed, rtol=1e-5)
    z = q.sample(key, (50_000,))
    mc = np.asarray((q.log_prob(z) - prior.log_prob(z)).mean(0))
    np.testing.assert_allclose(mc, closed.sum(-1), atol=0.05)


def test_free_bits_clamps_batch_mean_kl_per_group_and_stops_its_gradient():
    kl = jnp.asarray([[0.1, 2.0, 0.3, 0.0], [0.3, 1.0, 0.1, 0.2]], jnp.float32)  # [B=2, D=4]
    lam = 0.5
    out = free_bits(kl, lam)
    means = np.asarray(kl).mean(0)  # [0.2, 1.5, 0.2, 0.1]
    np.testing.assert_allclose(out.mean(), np.maximum(lam, means).sum(), rtol=1e-6)
    grad = jax.grad(lambda k: free_bits(k, lam).mean())(kl)
    np.testing.assert_allclose(grad, np.array([[0, 0.5, 0, 0], [0, 0.5, 0, 0]]), atol=1e-7)
    # Two groups of two dimensions: group means 1.7 and 0.3, so only the first passes.
    grouped = group_kl(kl, 2)
    np.testing.assert_allclose(grouped, [[2.1, 0.3], [1.3, 0.3]], rtol=1e-6)
    np.testing.assert_allclose(free_bits(grouped, lam).mean(), 1.7 + 0.5, rtol=1e-6)
    np.testing.assert_allclose(free_bits(kl, 0.0), np.asarray(kl).sum(-1), rtol=1e-6)


def test_kl_summary_matches_numpy():
    kl = jnp.asarray([[0.0, 2.0, 0.004], [0.0, 1.0, 0.012]], jnp.float32)
    s = {k: float(v[0]) for k, v in kl_summary(kl).items()}
    assert s == pytest.approx({"kl_dim_max": 1.5, "kl_dim_min": 0.0, "active_dims": 1.0})


def test_schedules_match_hand_computed_values():
    steps = jnp.arange(0, 25)
    np.testing.assert_allclose(
        np.asarray(linear_warmup(steps, jnp.float32(10.0)))[[0, 5, 10, 24]], [0.0, 0.5, 1.0, 1.0]
    )
    # Fu et al. with a 10-step cycle rising over its first half: 0, .2, .4, .6, .8, 1, ..., 1, 0.
    w = np.asarray(cyclical(steps, jnp.float32(10.0), jnp.float32(0.5)))
    np.testing.assert_allclose(w[:10], [0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(w[10:13], [0, 0.2, 0.4], atol=1e-6)
    np.testing.assert_allclose(w[23], 0.6, atol=1e-6)
    np.testing.assert_allclose(linear_capacity(jnp.int32(40), 25.0, jnp.float32(100.0)), 10.0)
    np.testing.assert_allclose(linear_capacity(jnp.int32(400), 25.0, jnp.float32(100.0)), 25.0)
    assert float(kl_weight("constant", jnp.int32(3), {})) == 1.0


def test_capacity_vae_batch_mean_is_gamma_times_abs_gap(key):
    model, variables, batch = _tiny(key, **{"objective.name": "capacity_vae"})
    hp = {"weight": jnp.float32(3.0), "capacity_max": jnp.float32(50.0), "capacity_steps": 10.0}
    apply = jax.jit(lambda step: _apply_capacity(model, variables, batch, key, hp, step))
    for step in (0, 5, 10):
        out = apply(step)
        c = 50.0 * min(1.0, step / 10)
        kl, recon = np.asarray(out.terms["kl"]), np.asarray(out.terms["recon"])
        expected = recon.mean() + 3.0 * abs(kl.mean() - c)
        np.testing.assert_allclose(out.loss.mean(), expected, rtol=1e-5)


def _apply_capacity(model, variables, batch, key, hp, step):
    from aejax.objectives import capacity_vae

    return model.apply(
        variables, batch, key, hp, step=jnp.int32(step), train=False, method=capacity_vae
    )


# ---------------------------------------------------------------------------------- IWAE


def _np_gauss_logpdf(z, loc, log_var):
    return (-0.5 * (np.log(2 * np.pi) + log_var + (z - loc) ** 2 / np.exp(log_var))).sum(-1)


def test_iwae_with_one_sample_is_the_single_sample_elbo(key):
    model, variables, batch = _tiny(key)
    apply = lambda fn, hp, **kw: model.apply(  # noqa: E731
        variables, batch, key, hp, step=jnp.int32(0), train=False, method=fn, **kw
    )
    bound = apply(lambda *a, **k: iwae(*a, num_samples=1, **k), {})
    elbo = apply(negative_elbo, {})
    # Same key, same z: identical reconstruction; the KL differs only by being Monte Carlo.
    np.testing.assert_allclose(bound.terms["recon"], elbo.terms["recon"], rtol=1e-6)
    post = model.apply(variables, batch["image"], method="encode")
    z = np.asarray(post.sample(key), np.float64)
    loc, log_var = np.asarray(post.loc, np.float64), np.asarray(post.log_var, np.float64)
    mc_kl = _np_gauss_logpdf(z, loc, log_var) - _np_gauss_logpdf(z, 0.0, 0.0)
    np.testing.assert_allclose(bound.loss, np.asarray(elbo.terms["recon"]) + mc_kl, rtol=1e-4)


def test_iwae_estimate_decreases_with_k_in_expectation(key):
    model, variables, batch = _tiny(key)
    keys = jax.random.split(key, 48)
    means = []
    for k in (1, 4, 32):

        def bound(one_key, k=k):
            return model.apply(
                variables,
                batch,
                one_key,
                {},
                step=jnp.int32(0),
                train=False,
                method=lambda *a, **kw: iwae(*a, num_samples=k, **kw),
            ).loss

        values = jax.jit(jax.vmap(bound))(keys)  # [48, B]
        means.append(float(values.mean()))
    assert means[0] > means[1] > means[2], means


# ----------------------------------------------------------------------------------- MMD


def _np_kernel(kind, a, b, scale):
    c = 2.0 * a.shape[-1] * scale
    d2 = ((a - b) ** 2).sum()
    if kind == "imq":
        return sum(c * s / (c * s + d2) for s in IMQ_SCALES)
    return math.exp(-d2 / c)


@pytest.mark.parametrize("kind", ["imq", "rbf"])
def test_mmd_is_the_unbiased_u_statistic(kind):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(loc=0.5, size=(5, 3))
    n, m = len(x), len(y)
    kxx = sum(_np_kernel(kind, x[i], x[j], 1.3) for i in range(n) for j in range(n) if i != j)
    kyy = sum(_np_kernel(kind, y[i], y[j], 1.3) for i in range(m) for j in range(m) if i != j)
    kxy = sum(_np_kernel(kind, x[i], y[j], 1.3) for i in range(n) for j in range(m))
    expected = kxx / (n * (n - 1)) + kyy / (m * (m - 1)) - 2 * kxy / (n * m)
    got = mmd_unbiased(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), kind, 1.3)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("kind", ["imq", "rbf"])
def test_mmd_near_zero_for_one_distribution_and_grows_with_a_shift(kind, key):
    kx, ky = jax.random.split(key)
    x = jax.random.normal(kx, (400, 4))
    y = jax.random.normal(ky, (400, 4))
    assert abs(float(mmd_unbiased(x, x, kind, 1.0))) < 0.02
    values = [float(mmd_unbiased(x, y + shift, kind, 1.0)) for shift in (0.0, 0.25, 0.5, 1.0)]
    assert abs(values[0]) < 0.01
    assert values[0] < values[1] < values[2] < values[3], values


# ------------------------------------------------------------------------- beta-TCVAE


def _tc_of_joint_gaussian(cov):
    std = np.sqrt(np.diag(cov))
    return -0.5 * np.linalg.slogdet(cov / np.outer(std, std))[1]


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_total_correlation_estimate_matches_closed_form(rho, key):
    # Posteriors N(mu_j, s^2 I) with mu_j ~ N(0, S): the aggregate q(z) is N(0, S + s^2 I).
    n, s2 = 3000, 0.25
    cov = np.array([[1.0, rho, 0.3 * rho], [rho, 1.0, 0.5 * rho], [0.3 * rho, 0.5 * rho, 1.0]])
    k_mu, k_z = jax.random.split(key)
    mu = jax.random.multivariate_normal(k_mu, jnp.zeros(3), jnp.asarray(cov, jnp.float32), (n,))
    log_var = jnp.full((n, 3), math.log(s2))
    z = mu + math.sqrt(s2) * jax.random.normal(k_z, (n, 3))
    log_qz, log_prod = aggregate_log_densities(z, mu, log_var, "mss", jnp.float32(n))
    expected = _tc_of_joint_gaussian(cov + s2 * np.eye(3))
    assert float((log_qz - log_prod).mean()) == pytest.approx(expected, abs=0.03)


def test_mws_and_mss_match_the_papers_formulas_in_numpy(key):
    rng = np.random.default_rng(0)
    b, d, n = 5, 3, 100.0
    z, loc = rng.normal(size=(b, d)), rng.normal(size=(b, d))
    log_var = rng.normal(scale=0.3, size=(b, d))
    logq = np.array(  # [i, j, d]: log q(z_i[d] | x_j)
        [
            [
                [_np_gauss_logpdf(z[i, k], loc[j, k], log_var[j, k]) for k in range(d)]
                for j in range(b)
            ]
            for i in range(b)
        ]
    )
    m = b - 1
    for estimator in ("mws", "mss"):
        w = np.full((b, b), 1.0 / (n * b))
        if estimator == "mss":
            w = np.full((b, b), 1.0 / m)
            for i in range(b):
                w[i, i], w[i, (i + 1) % b] = 1.0 / n, (n - m) / (n * m)
        qz = np.log((w * np.exp(logq.sum(-1))).sum(1))
        prod = np.log((w[:, :, None] * np.exp(logq)).sum(1)).sum(-1)
        f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
        got = aggregate_log_densities(f32(z), f32(loc), f32(log_var), estimator, f32(n))
        np.testing.assert_allclose(got[0], qz, rtol=1e-5)
        np.testing.assert_allclose(got[1], prod, rtol=1e-5)


def test_beta_tcvae_terms_sum_to_the_monte_carlo_kl(key):
    from aejax.objectives import beta_tcvae

    model, variables, batch = _tiny(key)
    hp = {k: jnp.float32(v) for k, v in dict(mi_weight=1, tc_weight=6, dwkl_weight=1).items()}
    hp["dataset_size"] = jnp.float32(1000.0)
    out = model.apply(variables, batch, key, hp, step=jnp.int32(0), train=False, method=beta_tcvae)
    post = model.apply(variables, batch["image"], method="encode")
    z = post.sample(key)
    mc_kl = post.log_prob(z) - StandardNormal(3).log_prob(z)
    t = out.terms
    np.testing.assert_allclose(t["mi"] + t["tc"] + t["dwkl"], mc_kl, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out.loss, t["recon"] + t["mi"] + 6 * t["tc"] + t["dwkl"], rtol=1e-5)


# ------------------------------------------------------------------------------- DIP-VAE


@pytest.mark.parametrize("dip_type", ["i", "ii"])
def test_dip_covariance_and_penalties_match_numpy(dip_type):
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(50, 4)), rng.normal(scale=0.3, size=(50, 4))
    post = DiagonalGaussian(jnp.asarray(mu, jnp.float32), jnp.asarray(log_var, jnp.float32))
    expected = np.cov(mu, rowvar=False, bias=True)
    if dip_type == "ii":
        expected = expected + np.diag(np.exp(log_var).mean(0))
    cov = np.asarray(dip_covariance(post, dip_type))
    np.testing.assert_allclose(cov, expected, rtol=1e-5, atol=1e-6)
    off, diag = dip_terms(jnp.asarray(cov))
    mask = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(off, (expected[mask] ** 2).sum(), rtol=1e-5)
    np.testing.assert_allclose(diag, ((np.diag(expected) - 1) ** 2).sum(), rtol=1e-5)


# ------------------------------------------------------------------ AE regularisers


def test_jacobian_frobenius_matches_finite_differences():
    rng = np.random.default_rng(0)
    w, bias = rng.normal(size=(6, 3)), rng.normal(size=3)
    x = rng.normal(size=(4, 6))
    fn = lambda a: jnp.tanh(
        a @ jnp.asarray(w, jnp.float32) + jnp.asarray(bias, jnp.float32)[None, :]
    )  # noqa: E731
    got = jacobian_frobenius_sq(fn, jnp.asarray(x, jnp.float32))
    f64 = lambda a: np.tanh(a @ w + bias)  # noqa: E731
    eps, expected = 1e-6, np.zeros(4)
    for b in range(4):
        for i in range(6):
            dx = np.zeros(6)
            dx[i] = eps
            col = (f64(x[b] + dx) - f64(x[b] - dx)) / (2 * eps)
            expected[b] += (col**2).sum()
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_contractive_term_of_the_model_matches_finite_differences(key):
    from aejax.objectives import contractive

    model, variables, batch = _tiny(
        key,
        **{"model.posterior": "delta", "model.encoder.activation": "tanh", **RECON},
    )
    hp = {"contractive_weight": jnp.float32(2.0)}
    out = model.apply(variables, batch, key, hp, step=jnp.int32(0), train=False, method=contractive)
    x = np.asarray(batch["image"][:2], np.float32)
    encode = jax.jit(lambda a: model.apply(variables, a, method="encode").mode())
    code = lambda a: np.asarray(encode(jnp.asarray(a)), np.float64)  # noqa: E731
    eps, expected = 1e-2, np.zeros(2)
    for p in range(x[0].size):
        dx = np.zeros_like(x).reshape(2, -1)
        dx[:, p] = eps
        dx = dx.reshape(x.shape)
        # The code is linear-in-tanh, so central differences at eps = 1e-2 are accurate to ~1e-4.
        col = (code(x + dx) - code(x - dx)) / (2 * eps)
        expected += (col**2).sum(-1)
    np.testing.assert_allclose(out.terms["jacobian_frobenius_sq"][:2], expected, rtol=2e-3)
    np.testing.assert_allclose(out.loss, 2.0 * out.terms["jacobian_frobenius_sq"], rtol=1e-6)


@pytest.mark.parametrize(
    "network",
    [
        {"model.encoder.norm": "layer", "model.encoder.activation": "tanh"},
        {
            "model.encoder.kind": "conv",
            "model.encoder.channels": (4, 4),
            "model.encoder.dense": 0,
            "model.encoder.norm": "group",
        },
    ],
    ids=["mlp_layer_norm", "conv_group_norm"],
)
def test_contractive_term_is_each_examples_own_jacobian_from_jacrev(network, key):
    # Normalisations that stay within one example: the penalty in training mode is, for every
    # example, the squared Frobenius norm of jax.jacrev of that example's code alone.
    from aejax.objectives import contractive

    model, variables, batch = _tiny(key, **{"model.posterior": "delta", **RECON, **network})
    hp = {"contractive_weight": jnp.float32(0.5)}
    out = model.apply(variables, batch, key, hp, step=jnp.int32(0), train=True, method=contractive)

    def code_of_one(xb):  # [H, W, C] -> [D]
        return model.apply(variables, xb[None], train=True, method="encode").mode()[0]

    jac = jax.jit(jax.vmap(jax.jacrev(code_of_one)))(batch["image"])  # [B, D, H, W, C]
    expected = (np.asarray(jac, np.float64) ** 2).sum((1, 2, 3, 4))
    assert expected.min() > 0
    np.testing.assert_allclose(out.terms["jacobian_frobenius_sq"], expected, rtol=1e-4)
    np.testing.assert_allclose(out.loss, 0.5 * expected, rtol=1e-4)


def test_sparsity_kl_matches_bernoulli_kl_formula():
    rho, rho_hat = 0.05, np.array([0.05, 0.2, 0.5])
    expected = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    np.testing.assert_allclose(bernoulli_kl(rho, jnp.asarray(rho_hat)), expected, rtol=1e-5)
    assert float(bernoulli_kl(rho, jnp.float32(rho))) == pytest.approx(0.0, abs=1e-7)


def test_corruptions_have_the_stated_statistics(key):
    x = jnp.ones((200, 8, 8, 1))
    masked = np.asarray(corrupt("masking", key, x, {"mask_prob": jnp.float32(0.25)}))
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert (masked == 0).mean() == pytest.approx(0.25, abs=0.01)
    noisy = np.asarray(corrupt("gaussian", key, x, {"noise_std": jnp.float32(0.5)}))
    assert (noisy - 1.0).mean() == pytest.approx(0.0, abs=0.01)
    assert (noisy - 1.0).std() == pytest.approx(0.5, rel=0.02)


def test_denoising_encodes_the_corrupted_input_and_scores_the_clean_one(key):
    model, variables, batch = _tiny(key, **{"model.posterior": "delta", **RECON})
    hp = {"mask_prob": jnp.float32(0.5)}
    out = model.apply(
        variables,
        batch,
        key,
        hp,
        step=jnp.int32(0),
        train=False,
        method=with_corruption(reconstruction, "masking"),
    )
    from aejax.objectives.inputs import stream

    noisy = corrupt("masking", stream(key, "corruption"), batch["image"], hp)
    z = model.apply(variables, noisy, method="encode").mode()
    expected = -model.apply(variables, z, method="decode").log_prob(batch["image"])
    np.testing.assert_allclose(out.loss, expected, rtol=1e-6)
    clean = model.apply(
        variables, batch, key, hp, step=jnp.int32(0), train=False, method=reconstruction
    )
    assert not np.allclose(out.loss, clean.loss)
