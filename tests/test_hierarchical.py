"""The Ladder VAE: precision-weighted posteriors, KL bookkeeping across layers, training."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from conftest import tiny_config

from aejax import build
from aejax.distributions import DiagonalGaussian
from aejax.models import HierarchicalAutoEncoder
from aejax.models.hierarchical import precision_weighted
from aejax.train.logging import read_jsonl
from aejax.train.loop import train
from aejax.train.run import init_state

LADDER = {"model.ladder.latent_dims": (3,), "model.ladder.hidden": (16,)}


def _normal_logpdf(z, loc, var):
    return -0.5 * (np.log(2 * np.pi * var) + (z - loc) ** 2 / var)


def test_precision_weighted_is_the_normalised_product_of_densities():
    a = DiagonalGaussian(loc=jnp.array([0.5, -1.0]), log_var=jnp.log(jnp.array([0.3, 2.0])))
    b = DiagonalGaussian(loc=jnp.array([-0.2, 3.0]), log_var=jnp.log(jnp.array([1.5, 0.1])))
    c = precision_weighted(a, b)
    z = np.linspace(-4, 4, 9)[:, None]
    # log N(z; a) + log N(z; b) - log N(z; c) must not depend on z.
    diff = (
        _normal_logpdf(z, np.asarray(a.loc), np.exp(np.asarray(a.log_var)))
        + _normal_logpdf(z, np.asarray(b.loc), np.exp(np.asarray(b.log_var)))
        - _normal_logpdf(z, np.asarray(c.loc), np.exp(np.asarray(c.log_var)))
    )
    np.testing.assert_allclose(diff - diff[0], 0.0, atol=1e-5)


def _model_and_variables(key):
    config = tiny_config(**LADDER)
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    assert isinstance(exp.model, HierarchicalAutoEncoder)
    state = init_state(exp, ds.info.shape, key)
    return exp.model, {"params": state.params}, jnp.asarray(ds.images[:4])


def test_sample_latent_kl_matches_log_density_gap_in_expectation(key):
    model, variables, x = _model_and_variables(key)
    sample = jax.jit(jax.vmap(lambda k: model.apply(variables, x, k, method="sample_latent")))(
        jax.random.split(key, 4000)
    )
    assert sample.z.shape == (4000, 4, 4) and sample.kl_per_dim.shape == (4000, 4, 4 + 3)
    # Both sum(kl_per_dim) and log q - log p are unbiased estimates of KL(q(z_0, z_1|x) || p).
    analytic = np.asarray(sample.kl_per_dim.sum(-1)).mean(0)
    gap = np.asarray(sample.log_q - sample.log_p)
    stderr = gap.std(0) / math.sqrt(gap.shape[0])
    np.testing.assert_array_less(np.abs(gap.mean(0) - analytic), 4 * stderr + 1e-3)
    # The top layer's KL is the closed form against N(0, I) of its bottom-up proposal.
    assert np.all(np.asarray(sample.kl_per_dim) >= -1e-6)


def test_generative_samples_and_decoding_have_the_right_shapes(key):
    model, variables, x = _model_and_variables(key)
    z = model.apply(variables, key, 5, method="sample_codes")
    assert z.shape == (5, 4)
    likelihood = model.apply(variables, z, method="decode")
    assert likelihood.log_prob(jnp.zeros((5, 16, 16, 1))).shape == (5,)
    assert model.apply(variables, x, method="encode").loc.shape == (4, 4 + 3)


def test_ladder_vae_trains_with_one_compile(tmp_path):
    summary = train(tiny_config(**LADDER, **{"train.num_steps": 40}), tmp_path)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert rows[-1]["neg_elbo"] < rows[0]["neg_elbo"]
    assert math.isfinite(rows[-1]["neg_elbo"]) and rows[-1]["kl"] > 0
    assert summary["train_compilations"] == 1


def test_evaluate_split_scores_a_hierarchical_model(key):
    from aejax.evaluation import likelihood

    model, variables, x = _model_and_variables(key)
    images = np.asarray(x)
    one = likelihood.evaluate_split(
        model, variables, images, key, iwae_k=1, batch_size=4, progress=False
    )
    # K = 1: the single importance weight at sample 0, recomputed by hand.
    k0 = jax.vmap(lambda i: jax.random.fold_in(jax.random.fold_in(key, i), 0))(jnp.arange(4))
    weights = []
    for b in range(4):
        s = model.apply(variables, x[b : b + 1], k0[b], method="sample_latent")
        ll = model.apply(variables, s.z, method="decode").log_prob(x[b : b + 1])
        weights.append(float(ll[0] + s.log_p[0] - s.log_q[0]))
    np.testing.assert_allclose(one["iwae_nll_nats"], -np.mean(weights), rtol=1e-5)
    many = likelihood.evaluate_split(
        model, variables, images, key, iwae_k=64, batch_size=4, progress=False
    )
    assert many["iwae_nll_nats"] <= many["neg_elbo_nats"] + 1.0
    assert len(many["kl_per_dim"]) == 4 + 3 and many["active_units"] <= 7


def test_conditional_likelihood_uses_the_labels(key):
    from aejax.evaluation import likelihood

    config = tiny_config(**{"model.num_classes": 3})
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    variables = {"params": init_state(exp, ds.info.shape, key).params}
    images, labels = ds.images[:6], ds.labels[:6]
    args = dict(iwae_k=4, batch_size=4, progress=False)
    given = likelihood.evaluate_split(exp.model, variables, images, key, labels=labels, **args)
    other = likelihood.evaluate_split(
        exp.model, variables, images, key, labels=(labels + 1) % 3, **args
    )
    assert given["neg_elbo_nats"] != other["neg_elbo_nats"]
    # Reference for example 0's one-sample ELBO, with its label, by hand.
    cond = exp.model.one_hot(jnp.asarray(labels[:1]))
    post = exp.model.apply(variables, jnp.asarray(images[:1]), cond, method="encode")
    assert post.loc.shape == (1, 4)
