"""Priors p(z) against independent references: scipy mixtures, brute-force Jacobians, numerical
integration, the closed-form Gaussian KL; every prior through one contract and a short training run.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config
from scipy import special, stats

from aejax import build
from aejax.distributions import DiagonalGaussian, MixtureOfGaussians, RealNVP, StandardNormal
from aejax.errors import ConfigError
from aejax.objectives.elbo import kl_to_prior
from aejax.train.checkpoint import Checkpointer
from aejax.train.loop import train
from aejax.train.rng import named_keys
from aejax.train.run import init_state

RNG = np.random.default_rng(0)
IMAGE_SHAPE = (16, 16, 1)


@functools.cache
def _model_and_variables(prior: str, components: int = 3):
    """The tiny_config model with ``prior``, initialised once per module run (compiles are slow)."""
    config = tiny_config(**{"model.prior": prior, "model.prior_components": components})
    model = build.build_model(config, IMAGE_SHAPE)
    return model, jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, *IMAGE_SHAPE)))


def _prior_and_variables(prior: str):
    """``(variables -> p(z), variables)`` as build_model makes them; only the VampPrior needs the
    whole model (its prior runs the encoder), the others are initialised alone to save compiles."""
    if prior == "vamp":
        model, variables = _model_and_variables(prior, 3)
        return (lambda v: model.apply(v, method=lambda m: m.prior_dist())), variables
    config = tiny_config(**{"model.prior": prior, "model.prior_components": 3})
    module = build.build_model(config, IMAGE_SHAPE).prior
    return module.apply, jax.jit(module.init)(jax.random.key(0))


def _pseudo_posterior_and_prior(model, variables):
    """q(z|u_k) of the clipped pseudo-inputs and the VampPrior, in one compiled call."""
    pseudo = jnp.clip(variables["params"]["prior"]["pseudo_inputs"], 0, 1)
    both = jax.jit(
        lambda v, u: model.apply(v, u, method=lambda m, u: (m.encode(u), m.prior_dist()))
    )
    return both(variables, pseudo)


def _random_flow(
    latent_dim: int, num_layers: int = 4, seed: int = 0, scale: float = 0.5
) -> RealNVP:
    """A flow far from the identity: every weight drawn from N(0, scale^2) (numpy, no compile)."""
    rng = np.random.default_rng(seed)
    widths = (latent_dim, 16, 16, 2 * latent_dim)
    layers = tuple(
        {
            "kernels": tuple(
                jnp.asarray(rng.normal(0, scale, (a, b)), jnp.float32)
                for a, b in zip(widths[:-1], widths[1:], strict=True)
            ),
            "biases": tuple(jnp.asarray(rng.normal(0, scale, b), jnp.float32) for b in widths[1:]),
        }
        for _ in range(num_layers)
    )
    return RealNVP(layers=layers, latent_dim=latent_dim)


# ---------------------------------------------------------------- mixture and VampPrior


def test_mixture_log_prob_matches_scipy():
    k, d = 5, 3
    logits = RNG.normal(size=k).astype(np.float32)
    loc = RNG.normal(size=(k, d)).astype(np.float32) * 2
    log_var = RNG.normal(size=(k, d)).astype(np.float32) * 0.5
    z = RNG.normal(size=(7, d)).astype(np.float32) * 2
    log_w = logits - special.logsumexp(logits)
    per_comp = np.stack(
        [
            stats.multivariate_normal(loc[j], np.diag(np.exp(log_var[j]))).logpdf(z) + log_w[j]
            for j in range(k)
        ],
        axis=-1,
    )
    want = special.logsumexp(per_comp, axis=-1)
    got = MixtureOfGaussians(logits, loc, log_var).log_prob(z)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # Extra sample axes: [S, B, D] -> [S, B].
    zz = np.stack([z, -z])
    np.testing.assert_allclose(MixtureOfGaussians(logits, loc, log_var).log_prob(zz)[0], want, 1e-5)


def test_mixture_samples_have_the_mixture_moments():
    logits = np.log(np.array([0.2, 0.8], np.float32))
    loc = np.array([[-2.0, 1.0], [1.0, 0.0]], np.float32)
    log_var = np.log(np.array([[0.25, 1.0], [1.0, 4.0]], np.float32))
    mix = MixtureOfGaussians(logits, loc, log_var)
    z = np.asarray(jax.jit(lambda key: mix.sample(key, (100_000,)))(jax.random.key(3)))
    w = np.exp(logits)[:, None]
    mean = (w * loc).sum(0)
    var = (w * (np.exp(log_var) + loc**2)).sum(0) - mean**2
    assert z.shape == (100_000, 2)
    np.testing.assert_allclose(z.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(z.var(0), var, rtol=0.02)


def test_vamp_prior_with_one_pseudo_input_is_that_inputs_posterior():
    model, variables = _model_and_variables("vamp", 1)
    q, prior = _pseudo_posterior_and_prior(model, variables)
    z = RNG.normal(size=(6, 4)).astype(np.float32)
    loc, scale = np.asarray(q.loc[0]), np.exp(0.5 * np.asarray(q.log_var[0]))
    want = stats.norm(loc, scale).logpdf(z).sum(-1)
    np.testing.assert_allclose(prior.log_prob(z), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(prior.log_prob(z), q.log_prob(z[:, None])[:, 0], rtol=1e-6)


def test_vamp_prior_components_are_the_encoded_pseudo_inputs():
    model, variables = _model_and_variables("vamp", 3)
    assert variables["params"]["prior"]["pseudo_inputs"].shape == (3, *IMAGE_SHAPE)
    q, prior = _pseudo_posterior_and_prior(model, variables)
    z = RNG.normal(size=(5, 4)).astype(np.float32)
    per_input = np.stack(
        [stats.norm(q.loc[k], np.exp(0.5 * q.log_var[k])).logpdf(z).sum(-1) for k in range(3)], -1
    )
    want = special.logsumexp(per_input, axis=-1) - np.log(3)
    np.testing.assert_allclose(prior.log_prob(z), want, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- flow


@pytest.mark.parametrize("latent_dim", [1, 5])
def test_flow_log_det_equals_brute_force_jacobian(latent_dim):
    flow = _random_flow(latent_dim)
    u = jnp.asarray(RNG.normal(size=latent_dim).astype(np.float32))

    @jax.jit
    def both_ways(flow, u):
        z, log_det = flow.forward(u)
        jac = jax.jacfwd(lambda v: flow.forward(v)[0])(u)
        inv_log_det = flow.inverse(z)[1]
        inv_jac = jax.jacfwd(lambda v: flow.inverse(v)[0])(z)
        return log_det, jac, inv_log_det, inv_jac

    log_det, jac, inv_log_det, inv_jac = both_ways(flow, u)
    _, want = np.linalg.slogdet(np.asarray(jac, np.float64))
    np.testing.assert_allclose(log_det, want, rtol=1e-4, atol=1e-4)
    _, want_inv = np.linalg.slogdet(np.asarray(inv_jac, np.float64))
    np.testing.assert_allclose(inv_log_det, want_inv, rtol=1e-4, atol=1e-4)
    # The flow is far from the identity, or the Jacobian check would be vacuous.
    assert latent_dim == 1 or abs(float(log_det)) > 0.1


def test_flow_inverse_undoes_forward_and_sample_log_prob_agree():
    flow = _random_flow(5)
    u = RNG.normal(size=(64, 5)).astype(np.float32)

    @jax.jit
    def run(flow, u, key):
        z, log_det = flow.forward(u)
        back, inv_log_det = flow.inverse(z)
        same_draw = flow.forward(jax.random.normal(key, (8, 5)))[0]
        return z, log_det, back, inv_log_det, flow.log_prob(z), flow.sample(key, (8,)), same_draw

    z, log_det, back, inv_log_det, log_prob, sample, same_draw = run(flow, u, jax.random.key(9))
    np.testing.assert_allclose(back, u, atol=1e-4)
    np.testing.assert_allclose(inv_log_det, -log_det, atol=1e-4)
    # log p(f(u)) = log N(u) - log|det df/du| (change of variables).
    base = stats.norm().logpdf(u).sum(-1)
    np.testing.assert_allclose(log_prob, base - np.asarray(log_det), rtol=1e-4, atol=1e-4)
    # sample(key) is the forward map of the N(0, I) draw made from the same key.
    np.testing.assert_allclose(sample, same_draw, rtol=1e-5, atol=1e-5)


def test_flow_density_integrates_to_one():
    """Riemann sum of exp(log_prob) on a grid vs the share of samples inside it (about all)."""
    flow = _random_flow(2, num_layers=4, scale=0.25)
    grid = np.linspace(-10, 10, 801, dtype=np.float32)
    zz = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1)
    density = np.exp(np.asarray(jax.jit(flow.log_prob)(jnp.asarray(zz)), np.float64))
    mass = density.sum() * (grid[1] - grid[0]) ** 2
    z = np.asarray(jax.jit(lambda key: flow.sample(key, (20_000,)))(jax.random.key(5)))
    inside = np.mean(np.all(np.abs(z) < 10, axis=-1))
    assert inside > 0.99
    np.testing.assert_allclose(mass, inside, atol=3e-3)
    # Not a disguised standard normal: the density is visibly different from N(0, I).
    assert np.abs(density - stats.norm().pdf(zz).prod(-1)).max() > 0.01


# ---------------------------------------------------------------- KL


def test_gaussian_kl_analytic_matches_monte_carlo_with_fixed_key():
    m1, m2 = np.array([0.3, -1.0, 2.0], np.float32), np.array([-0.5, 0.2, 1.0], np.float32)
    lv1, lv2 = np.array([-0.5, 0.3, 0.0], np.float32), np.array([0.4, -0.2, 1.0], np.float32)
    q, p = DiagonalGaussian(m1, lv1), DiagonalGaussian(m2, lv2)
    mc = jax.jit(lambda key: (lambda z: q.log_prob(z) - p.log_prob(z))(q.sample(key, (200_000,))))
    mc = float(mc(jax.random.key(7)).mean())
    np.testing.assert_allclose(mc, float(q.kl_divergence(p)), rtol=1e-2)


def test_kl_to_a_mixture_prior_uses_monte_carlo_and_is_unbiased():
    """A one-component mixture at N(0, I): the sampled KL averages to the closed form."""
    q = DiagonalGaussian(jnp.array([[0.5, -1.0]]), jnp.array([[-0.3, 0.4]]))
    mix = MixtureOfGaussians(jnp.zeros(1), jnp.zeros((1, 2)), jnp.zeros((1, 2)))
    assert not hasattr(mix, "kl_from")
    z = jax.jit(lambda key: q.sample(key, (100_000,)))(jax.random.key(2))  # [S, 1, D]
    mc = jax.jit(kl_to_prior)(q, mix, z)  # [S, 1]
    closed = 0.5 * (np.exp([-0.3, 0.4]) + np.array([0.25, 1.0]) - 1 - np.array([-0.3, 0.4]))
    np.testing.assert_allclose(float(mc.mean()), closed.sum(), rtol=2e-2)
    np.testing.assert_allclose(
        float(kl_to_prior(q, StandardNormal(2), z[0])[0]), closed.sum(), rtol=1e-5
    )


# ---------------------------------------------------------------- contract


@pytest.mark.parametrize("prior", list(build.PRIORS))
def test_prior_contract(prior):
    """Under jit: log_prob [B] and [S, B], sample shapes, finite gradients that reach the prior's
    parameters. The standard normal and the freshly initialised flow are exactly N(0, I)."""
    prior_dist, variables = _prior_and_variables(prior)
    z = jnp.asarray(RNG.normal(size=(6, 4)).astype(np.float32) * 3)

    @jax.jit
    def probe(variables, z):
        dist = prior_dist(variables)
        grads = jax.grad(lambda v, z: prior_dist(v).log_prob(z).mean(), argnums=(0, 1))(
            variables, z
        )
        return {
            "log_prob": dist.log_prob(z),
            "log_prob_sb": dist.log_prob(jnp.stack([z, z])),
            "samples": dist.sample(jax.random.key(0), (3, 2)),
            "one_sample": dist.sample(jax.random.key(0)),
            "grads": grads,
        }

    out = probe(variables, z)
    assert out["log_prob"].shape == (6,)
    np.testing.assert_allclose(out["log_prob_sb"], jnp.stack([out["log_prob"]] * 2), rtol=1e-6)
    assert out["samples"].shape == (3, 2, 4) and out["one_sample"].shape == (4,)
    assert np.isfinite(np.asarray(out["samples"])).all()
    g_params, g_z = out["grads"]
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(out["grads"]))
    assert np.abs(np.asarray(g_z)).max() > 0
    if prior in ("standard_normal", "flow"):
        want = stats.norm().logpdf(np.asarray(z)).sum(-1)
        np.testing.assert_allclose(out["log_prob"], want, rtol=1e-5)
    if prior != "standard_normal":
        params = g_params["params"]
        prior_grads = jax.tree_util.tree_leaves(params["prior"] if prior == "vamp" else params)
        assert any(np.abs(np.asarray(x)).max() > 0 for x in prior_grads)


@pytest.mark.parametrize(
    "prior, likelihood",
    [("mixture", "continuous_bernoulli"), ("vamp", "logistic"), ("flow", "logistic_mixture")],
)
def test_each_prior_and_likelihood_trains_without_nan(tmp_path, prior, likelihood):
    """A few aejax.train steps per prior (each paired with one new likelihood, to save time):
    finite metrics, and the learnable prior's parameters still move between steps 3 and 6."""
    config = tiny_config(
        **{
            "model.prior": prior,
            "model.likelihood": likelihood,
            "model.prior_components": 3,
            "model.flow_hidden": (16,),
            "data.shapes.num_train": 64,
            "data.shapes.num_test": 16,
            "train.num_steps": 6,
            "train.log_every": 3,
            "train.checkpoint_every": 3,
            "train.steps_per_call": 3,
        }
    )
    summary = train(config, tmp_path)
    assert summary["step"] == 6
    rows = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite([r["loss"], r["kl"], r["grad_norm"]]).all() for r in rows)
    assert rows[-1]["skipped_steps"] == 0
    exp = build.build_experiment(config, IMAGE_SHAPE, 64)
    # An abstract template (no init compile): checkpoints hold steps 3 and 6.
    template = jax.eval_shape(lambda: init_state(exp, IMAGE_SHAPE, named_keys(0)["init"]))
    ckpt = Checkpointer(tmp_path / "checkpoints")
    early, late = (ckpt.restore(s, template).params["prior"] for s in (3, 6))
    ckpt.close()
    moved = jax.tree_util.tree_map(lambda a, b: float(np.abs(a - b).max()), early, late)
    assert max(jax.tree_util.tree_leaves(moved)) > 0


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    "overrides, pattern",
    [
        ({"model.prior": "gmm"}, r"model.prior='gmm' .*standard_normal, mixture, vamp, flow"),
        ({"model.prior": "mixture", "model.prior_components": 0}, "model.prior_components"),
        ({"model.prior": "vamp", "model.posterior": "delta"}, "model.prior='vamp'.*gaussian"),
        ({"model.prior": "flow", "model.flow_layers": -1}, "model.flow_layers"),
        ({"model.prior": "flow", "model.flow_hidden": (8, 0)}, "model.flow_hidden"),
    ],
)
def test_invalid_prior_config_is_a_config_error(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        build.build_model(tiny_config(**overrides), IMAGE_SHAPE)
