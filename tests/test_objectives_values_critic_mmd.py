"""Values of the two-player (FactorVAE, WAE-GAN, AAE) and MMD (WAE-MMD, InfoVAE) objectives
against independent references.

Two kinds of reference: a numpy re-derivation of every term from the model's own pieces (the
posterior, the decoder's logits and the critic, each read separately) for objectives built from
configs; and closed forms (or a 1-D quadrature) for a hand-built model whose posterior, prior
and critic are known, so the estimate must converge to a number derived on paper.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.distributions import DiagonalGaussian, Gaussian, StandardNormal
from aejax.nn import MLPCritic
from aejax.objectives.inputs import stream
from aejax.train.run import init_state

SHAPE = (8, 8, 1)
LATENT = 3
STEP = jnp.int32(0)


@pytest.fixture(autouse=True)
def _fast_compile():
    """Skip XLA's optimisation passes (compile time dominates these small checks)."""
    before = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def _config(**overrides):
    small = {
        "model.latent_dim": LATENT,
        "model.encoder.hidden": (16,),
        "model.decoder.hidden": (16,),
        "model.critic.hidden": (16,),
    }
    return tiny_config(**{**small, **overrides})


def _experiment(key, **overrides):
    """A tiny built experiment, its variables, a binary batch ``[16, 8, 8, 1]`` and float32
    hparams (everything the objective reads)."""
    exp = build.build_experiment(_config(**overrides), SHAPE, 256)
    variables = {"params": init_state(exp, SHAPE, key).params}
    x = jnp.asarray(np.random.default_rng(1).random((16, *SHAPE)) > 0.5, jnp.float32)
    hp = {k: jnp.float32(v) for k, v in exp.hparams.items()}
    return exp, variables, {"image": x}, hp


# ------------------------------------------------------------------- numpy references


def softplus(a):
    return np.logaddexp(0.0, a)


def np_bernoulli_nll(x, logits):
    """``-log p(x|z)`` of independent Bernoulli pixels, summed per example."""
    x, logits = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    return -(x * logits - softplus(logits)).reshape(len(x), -1).sum(-1)


def np_kl_to_standard_normal(loc, log_var):
    return (0.5 * (np.exp(log_var) + loc**2 - 1.0 - log_var)).sum(-1)


def np_kernel(kind, a, b, scale):
    """``[N, M]`` Gram matrix; ``C = 2 D scale`` (Tolstikhin et al.'s choice for N(0, scale I))."""
    c = 2.0 * a.shape[-1] * scale
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    if kind == "imq":  # the scales of Tolstikhin et al.'s WAE code
        return sum(c * s / (c * s + d2) for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0))
    return np.exp(-d2 / c)


def np_mmd_u(kind, x, y, scale):
    """Gretton et al. (2012) eq. 3: within-sample pairs i != j, all cross pairs."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n, m = len(x), len(y)
    kxx, kyy = np_kernel(kind, x, x, scale), np_kernel(kind, y, y, scale)
    return (
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2.0 * np_kernel(kind, x, y, scale).mean()
    )


def _pieces(exp, variables, batch):
    """The model's pieces, each read on its own: ``(loc, log_var)`` of q(z|x) (``None`` for a
    Delta posterior), ``z -> decoder logits`` and ``z -> critic logit``."""
    model = exp.model
    post = model.apply(variables, batch["image"], method="encode")
    loc = log_var = None
    if hasattr(post, "log_var"):
        loc, log_var = (np.asarray(a, np.float64) for a in (post.loc, post.log_var))

    def logits(z):
        z = jnp.asarray(z, jnp.float32)
        return np.asarray(model.apply(variables, z, method="decode").logits, np.float64)

    def critic(z):
        z = jnp.asarray(z, jnp.float32)
        out = model.apply(variables, z, method=lambda m, c: m.critic(c))
        return np.asarray(out, np.float64)

    return loc, log_var, logits, critic


def _reparameterised(loc, log_var, key):
    """``z = loc + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` drawn from ``key``."""
    eps = np.asarray(jax.random.normal(key, loc.shape), np.float64)
    return loc + np.exp(0.5 * log_var) * eps


def _run_recording_critic(exp, variables, batch, key, hp):
    """The objective's output and every input the critic saw, in call order (eager run)."""
    seen = []

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, MLPCritic) and context.method_name == "__call__":
            seen.append(np.asarray(args[0], np.float64))
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
        out = exp.model.apply(
            variables, batch, key, hp, step=STEP, train=True, method=exp.objective
        )
    return out, seen


# --------------------------------------------------------------------------- FactorVAE


def test_factor_vae_tc_estimate_and_critic_loss_match_numpy(key):
    exp, variables, batch, hp = _experiment(
        key, **{"objective.name": "factor_vae", "factor_vae.tc_weight": 7.0}
    )
    out, seen = _run_recording_critic(exp, variables, batch, key, hp)
    loc, log_var, logits, critic = _pieces(exp, variables, batch)
    z_key, _ = jax.random.split(key)
    z = _reparameterised(loc, log_var, z_key)
    # The critic reads z for the TC term, z again as the "joint" sample, and a permuted copy.
    assert len(seen) == 3
    np.testing.assert_allclose(seen[0], z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(seen[1], z, rtol=1e-5, atol=1e-6)
    permuted = seen[2]  # samples of prod_j q(z_j): every column reshuffled on its own
    for j in range(LATENT):
        np.testing.assert_allclose(np.sort(permuted[:, j]), np.sort(z[:, j]), rtol=1e-6)
    # ... independently: rows of the permuted copy mix the dimensions of different rows of z.
    rows = {tuple(r) for r in np.round(z, 5)}
    assert sum(tuple(r) not in rows for r in np.round(permuted, 5)) >= len(z) // 2
    real, fake = critic(z), critic(permuted)
    # TC ~ log D(z) / (1 - D(z)) with D = sigmoid(logit): the logit itself.
    d = 1.0 / (1.0 + np.exp(-real))
    np.testing.assert_allclose(out.terms["tc"], np.log(d / (1.0 - d)), rtol=1e-4, atol=1e-5)
    recon = np_bernoulli_nll(batch["image"], logits(z))
    kl = np_kl_to_standard_normal(loc, log_var)
    np.testing.assert_allclose(out.terms["recon"], recon, rtol=1e-5)
    np.testing.assert_allclose(out.terms["kl"], kl, rtol=1e-5)
    np.testing.assert_allclose(out.loss, recon + kl + 7.0 * real, rtol=1e-5)
    # The critic's loss: binary cross-entropy, joint samples real (1), permuted fake (0).
    np.testing.assert_allclose(out.aux_loss, softplus(-real) + softplus(fake), rtol=1e-5)
    accuracy = 0.5 * ((real > 0).astype(float) + (fake < 0).astype(float))
    np.testing.assert_allclose(out.terms["critic_accuracy"], accuracy)


class HandModel:
    """Stands in for a bound AutoEncoder with everything known: q(z|x_b) = N(loc_b, diag
    exp(log_var_b)), p(z) = N(0, I), p(x|z) = N(0, 1) per pixel, and ``critic`` a function."""

    def __init__(self, loc, log_var, critic=None):
        self.loc = jnp.asarray(loc, jnp.float32)
        self.log_var = jnp.asarray(np.broadcast_to(log_var, np.shape(loc)), jnp.float32)
        self._critic = critic

    def condition(self, batch):
        return None

    def encode(self, x, cond=None, *, train=False):
        return DiagonalGaussian(self.loc, self.log_var)

    def decode(self, z, cond=None, *, train=False):
        return Gaussian(loc=jnp.zeros((z.shape[0], 1, 1, 1)), log_scale=jnp.float32(0.0))

    def prior_dist(self):
        return StandardNormal(self.loc.shape[-1])

    def critic(self, z):
        return self._critic(z)


def _hand_batch(n):
    return {"image": jnp.zeros((n, 1, 1, 1), jnp.float32)}


def _gauss_logpdf(z, cov):
    """``log N(z; 0, cov)`` for ``z [B, D]`` (jnp)."""
    d = cov.shape[0]
    prec = jnp.asarray(np.linalg.inv(cov), jnp.float32)
    logdet = float(np.linalg.slogdet(cov)[1])
    return -0.5 * (jnp.einsum("bi,ij,bj->b", z, prec, z) + d * math.log(2 * math.pi) + logdet)


def test_factor_vae_with_the_bayes_optimal_critic_estimates_the_closed_form_tc(key):
    # Posteriors N(mu_b, s^2 I) with mu_b ~ N(0, S): every z_b ~ N(0, C), C = S + s^2 I, whose
    # total correlation is -1/2 log det(corr(C)). The Bayes-optimal critic between q(z) and
    # prod_j q(z_j) has logit log q(z) - sum_j log q(z_j); its TC estimate is that closed form.
    n, s2 = 5000, 0.25
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])
    mu = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, n)
    c = cov + s2 * np.eye(3)
    sd = np.sqrt(np.diag(c))
    tc = -0.5 * np.linalg.slogdet(c / np.outer(sd, sd))[1]

    def optimal(z):
        var, log_sd = (jnp.asarray(a, jnp.float32)[None] for a in (sd**2, np.log(sd)))
        marginals = -0.5 * (z**2 / var + math.log(2 * math.pi)) - log_sd  # log N(z_j; 0, C_jj)
        return _gauss_logpdf(z, c) - marginals.sum(-1)

    objective, _ = build.build_objective(_config(**{"objective.name": "factor_vae"}), 256)

    def run(critic):
        model = HandModel(mu, math.log(s2), critic)
        out = objective(
            model, _hand_batch(n), key, {"tc_weight": jnp.float32(1.0)}, step=STEP, train=True
        )
        return np.asarray(out.terms["tc"], np.float64), float(out.aux_loss.mean())

    estimate, best = run(optimal)
    assert estimate.mean() == pytest.approx(tc, abs=4 * estimate.std() / math.sqrt(n))
    # The optimal critic minimises the critic loss; a wrong label convention would favour -r.
    for other in (lambda z: -optimal(z), lambda z: 0.0 * optimal(z), lambda z: 2 * optimal(z)):
        assert best < run(other)[1] - 0.01
    assert run(lambda z: 0.0 * optimal(z))[1] == pytest.approx(2 * math.log(2), rel=1e-6)


# ---------------------------------------------------------------------- WAE-GAN and AAE


@pytest.mark.parametrize("name, lam", [("wae_gan", 10.0), ("aae", 1.0)])
def test_adversarial_prior_matching_losses_match_numpy(name, lam, key):
    exp, variables, batch, hp = _experiment(key, **{"objective.name": name, "objective.lam": lam})
    out, seen = _run_recording_critic(exp, variables, batch, key, hp)
    loc, log_var, logits, critic = _pieces(exp, variables, batch)
    z_key, prior_key = jax.random.split(key)
    z = _reparameterised(loc, log_var, z_key)
    # The critic reads the codes (for the encoder's loss), prior draws, then the codes again.
    assert len(seen) == 3
    np.testing.assert_allclose(seen[0], z, rtol=1e-5, atol=1e-6)
    z_prior = np.asarray(jax.random.normal(prior_key, z.shape), np.float64)  # p(z) = N(0, I)
    np.testing.assert_allclose(seen[1], z_prior, rtol=1e-6)
    np.testing.assert_allclose(seen[2], z, rtol=1e-5, atol=1e-6)
    code_logit, prior_logit = critic(z), critic(z_prior)
    recon = np_bernoulli_nll(batch["image"], logits(z))
    adversarial = softplus(-code_logit)  # -log D(z): the encoder wants its codes called real
    np.testing.assert_allclose(out.terms["recon"], recon, rtol=1e-5)
    np.testing.assert_allclose(out.terms["adversarial"], adversarial, rtol=1e-5)
    np.testing.assert_allclose(out.loss, recon + lam * adversarial, rtol=1e-5)
    # The critic calls prior samples real and codes fake.
    expected_aux = softplus(-prior_logit) + softplus(code_logit)
    np.testing.assert_allclose(out.aux_loss, expected_aux, rtol=1e-5)
    accuracy = 0.5 * ((prior_logit > 0).astype(float) + (code_logit < 0).astype(float))
    np.testing.assert_allclose(out.terms["critic_accuracy"], accuracy)


def _expect_softplus_of_normal(mean, sd):
    """``E softplus(Y)`` for ``Y ~ N(mean, sd^2)`` by 80-point Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float((weights * softplus(mean + sd * nodes)).sum() / weights.sum())


@pytest.mark.parametrize("name", ["wae_gan", "aae"])
def test_adversarial_losses_with_the_bayes_optimal_critic_match_quadrature(name, key):
    # q(z) = N(m, 1), p(z) = N(0, 1), D = 1. The optimal critic (prior real) has logit
    # r(z) = log p(z) - log q(z) = m^2/2 - m z. Then the encoder's -log D(z) under q is
    # softplus(m^2/2 + m eps) and the critic's loss is twice E softplus(N(-m^2/2, m^2)), i.e.
    # 2 log 2 - 2 JSD(p, q): one-dimensional integrals, done by quadrature.
    n, m, lam = 50000, 1.5, 3.0
    objective, _ = build.build_objective(_config(**{"objective.name": name}), 256)
    model = HandModel(np.full((n, 1), m), 0.0, lambda z: m * m / 2 - m * z[:, 0])
    out = objective(
        model, _hand_batch(n), key, {"adversarial_weight": jnp.float32(lam)}, step=STEP, train=True
    )
    generator = _expect_softplus_of_normal(m * m / 2, m)
    critic = 2 * _expect_softplus_of_normal(-m * m / 2, m)
    assert critic < 2 * math.log(2) - 0.4  # far from what a critic that knows nothing gets
    for got, expected in ((out.terms["adversarial"], generator), (out.aux_loss, critic)):
        got = np.asarray(got, np.float64)
        assert got.mean() == pytest.approx(expected, abs=4 * got.std() / math.sqrt(n))
    recon = 0.5 * math.log(2 * math.pi)  # -log N(0; 0, 1) for the single pixel
    np.testing.assert_allclose(
        out.loss, recon + lam * np.asarray(out.terms["adversarial"]), rtol=1e-5
    )


# ------------------------------------------------------------------- WAE-MMD and InfoVAE


@pytest.mark.parametrize("posterior", ["gaussian", "delta"])
@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_wae_mmd_objective_matches_numpy(posterior, kernel, key):
    exp, variables, batch, hp = _experiment(
        key,
        **{
            "objective.name": "wae_mmd",
            "objective.lam": 10.0,
            "objective.mmd_kernel": kernel,
            "objective.mmd_scale": 2.0,
            "model.posterior": posterior,
        },
    )
    out = exp.model.apply(variables, batch, key, hp, step=STEP, train=True, method=exp.objective)
    z_key, prior_key = jax.random.split(key)
    loc, log_var, logits, _ = _pieces(exp, variables, batch)
    if posterior == "gaussian":
        z = _reparameterised(loc, log_var, z_key)
    else:  # the code itself
        z = np.asarray(exp.model.apply(variables, batch["image"], method="encode").value)
    z_prior = np.asarray(jax.random.normal(prior_key, z.shape), np.float64)
    mmd = np_mmd_u(kernel, z, z_prior, 2.0)
    recon = np_bernoulli_nll(batch["image"], logits(z))
    np.testing.assert_allclose(out.terms["mmd"], np.full(16, mmd), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.terms["recon"], recon, rtol=1e-5)
    np.testing.assert_allclose(out.loss, recon + 10.0 * mmd, rtol=1e-5, atol=1e-4)


def _rbf_mean(delta2, var, c, d):
    """``E exp(-||a - b||^2 / c)`` for ``a - b ~ N(delta, var I)`` in ``d`` dimensions."""
    return (1 + 2 * var / c) ** (-d / 2) * math.exp(-delta2 / (c + 2 * var))


def test_wae_mmd_term_is_unbiased_for_the_closed_form_rbf_mmd(key):
    # q(z) = N(m, s^2 I) for every x against p(z) = N(0, I): the population MMD^2 with the RBF
    # kernel exp(-||a - b||^2 / C) is a sum of three Gaussian integrals, and the objective's
    # MMD^2_u of 8 codes against 8 prior draws is unbiased for it: its mean over 20000 keys.
    d, n, s2, scale = 2, 8, 0.5, 1.0
    m = np.array([0.6, -0.3])
    c = 2 * d * scale
    expected = (
        _rbf_mean(0.0, 2 * s2, c, d)
        + _rbf_mean(0.0, 2.0, c, d)
        - 2 * _rbf_mean(m @ m, s2 + 1, c, d)
    )
    config = _config(
        **{"objective.name": "wae_mmd", "objective.mmd_kernel": "rbf", "model.latent_dim": d}
    )
    objective, _ = build.build_objective(config, 256)
    model = HandModel(np.tile(m, (n, 1)), math.log(s2))
    hp = {"weight": jnp.float32(1.0), "mmd_scale": jnp.float32(scale)}

    def mmd(k):
        return objective(model, _hand_batch(n), k, hp, step=STEP, train=True).terms["mmd"][0]

    values = np.asarray(jax.jit(jax.vmap(mmd))(jax.random.split(key, 20000)), np.float64)
    standard_error = values.std() / math.sqrt(len(values))
    assert expected > 5 * standard_error  # the test can tell the shift from no shift
    assert values.mean() == pytest.approx(expected, abs=4 * standard_error)


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_info_vae_is_elbo_weighted_plus_mmd_of_zhao_et_al(kernel, key):
    # Zhao et al. (2019) eq. 6, per example: E_q[-log p(x|z)] + (1 - alpha) KL(q(z|x) || p(z))
    # + (alpha + lambda - 1) MMD(q(z), p(z)); configured as beta = 1 - alpha and
    # mmd_weight = alpha + lambda - 1 (alpha = 0.5, lambda = 10 here).
    alpha, lam = 0.5, 10.0
    exp, variables, batch, hp = _experiment(
        key,
        **{
            "objective.name": "elbo",
            "elbo.beta": 1 - alpha,
            "objective.mmd_weight": alpha + lam - 1,
            "objective.mmd_kernel": kernel,
            "objective.mmd_scale": 1.5,
        },
    )
    out = exp.model.apply(variables, batch, key, hp, step=STEP, train=True, method=exp.objective)
    loc, log_var, logits, _ = _pieces(exp, variables, batch)
    # The bound draws from the step's key; the MMD term from its own named stream.
    z = _reparameterised(loc, log_var, key)
    z_key, prior_key = jax.random.split(stream(key, "mmd_penalty"))
    z_mmd = _reparameterised(loc, log_var, z_key)
    z_prior = np.asarray(jax.random.normal(prior_key, z.shape), np.float64)
    mmd = np_mmd_u(kernel, z_mmd, z_prior, 1.5)
    recon = np_bernoulli_nll(batch["image"], logits(z))
    kl = np_kl_to_standard_normal(loc, log_var)
    np.testing.assert_allclose(out.terms["mmd"], np.full(16, mmd), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.terms["recon"], recon, rtol=1e-5)
    np.testing.assert_allclose(out.terms["kl"], kl, rtol=1e-5)
    expected = recon + (1 - alpha) * kl + (alpha + lam - 1) * mmd
    np.testing.assert_allclose(out.loss, expected, rtol=1e-5, atol=1e-4)
