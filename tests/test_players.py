"""Extra players: a critic with its own loss and optimizer, conditioning on labels, and M2."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.data.semi_supervised import balanced_subset
from aejax.errors import ConfigError
from aejax.objectives import m2
from aejax.objectives.adversarial import permute_dims
from aejax.train.loop import train
from aejax.train.rng import named_keys
from aejax.train.run import device_data, init_state, stream_pools
from aejax.train.step import make_train_step, player_gradients

SMALL_CRITIC = {"model.critic.hidden": (16,), "model.classifier.hidden": (16,)}


def _experiment(config):
    ds = build.load_data(config, "train")
    return ds, build.build_experiment(config, ds.info.shape, len(ds))


def test_permute_dims_keeps_each_marginal_and_breaks_the_joint(key):
    z = jnp.stack([jnp.arange(64.0), jnp.arange(64.0)], axis=1)  # perfectly correlated columns
    p = np.asarray(permute_dims(key, z))
    for j in range(2):
        np.testing.assert_array_equal(np.sort(p[:, j]), np.arange(64.0))
    assert abs(np.corrcoef(p[:, 0], p[:, 1])[0, 1]) < 0.5


def test_player_gradients_match_each_players_own_loss():
    params = {"critic": {"w": jnp.array([1.5, -0.5])}, "enc": {"w": jnp.array([0.3, 2.0])}}

    def loss_fn(p):
        c, e = p["critic"]["w"], p["enc"]["w"]
        main = jnp.sum(e**2 * c)  # depends on both players
        aux = jnp.sum(jnp.sin(c) * e)  # depends on both players
        return (main, aux), None

    (loss, aux), _, grads = player_gradients(loss_fn, params, ("critic",))
    # Reference: each player's loss differentiated alone, by hand.
    c, e = np.array([1.5, -0.5]), np.array([0.3, 2.0])
    np.testing.assert_allclose(grads["enc"]["w"], 2 * e * c, rtol=1e-6)
    np.testing.assert_allclose(grads["critic"]["w"], np.cos(c) * e, rtol=1e-6)
    np.testing.assert_allclose(loss, np.sum(e**2 * c), rtol=1e-6)
    np.testing.assert_allclose(aux, np.sum(np.sin(c) * e), rtol=1e-6)


@pytest.mark.parametrize("name", ["factor_vae", "wae_gan", "aae"])
def test_two_player_step_updates_each_player_at_its_own_rate(name, key):
    config = tiny_config(**{"objective.name": name, **SMALL_CRITIC})
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    assert "critic" in state.params
    step = jax.jit(make_train_step(exp.model, exp.objective, exp.tx, players=exp.players))
    batch = {"image": jnp.asarray(ds.images[:32]), "label": jnp.asarray(ds.labels[:32])}
    hp = build.hparams_as_arrays(exp.hparams)
    frozen_critic = dict(hp, critic_learning_rate=jnp.float32(0.0))
    new, m = step(state, batch, named_keys(0)["train"], frozen_critic)
    assert bool(m["finite"]) and "aux_loss" in m and 0 <= float(m["critic_accuracy"]) <= 1
    assert not _changed(new.params["critic"], state.params["critic"])
    assert _changed(new.params["decoder"], state.params["decoder"])
    frozen_model = dict(hp, learning_rate=jnp.float32(0.0))
    new, _ = step(state, batch, named_keys(0)["train"], frozen_model)
    assert _changed(new.params["critic"], state.params["critic"])
    assert not any(_changed(new.params[k], state.params[k]) for k in state.params if k != "critic")


def _changed(a, b) -> bool:
    leaves = jax.tree_util.tree_leaves(jax.tree_util.tree_map(np.array_equal, a, b))
    return not all(leaves)


def test_factor_vae_critic_learns_to_separate_correlated_codes(tmp_path):
    # A latent whose dimensions the encoder makes dependent gives the critic something to find;
    # after training its accuracy on real vs permuted codes must beat chance.
    config = tiny_config(
        **{
            "objective.name": "factor_vae",
            "factor_vae.tc_weight": 0.0,  # nothing pushes the codes towards independence
            "model.critic.hidden": (64, 64),
            "optimizer.critic.learning_rate": 1e-3,
            "train.num_steps": 120,
        }
    )
    summary = train(config, tmp_path)
    assert summary["final_train_metrics"]["critic_accuracy"] > 0.5


def test_conditional_model_uses_the_label(key):
    config = tiny_config(**{"model.num_classes": 3})
    ds, exp = _experiment(config)
    state = init_state(exp, ds.info.shape, key)
    variables = {"params": state.params}
    x = jnp.asarray(ds.images[:4])
    z = jnp.zeros((4, 4))
    a = exp.model.apply(variables, z, exp.model.one_hot(jnp.zeros(4, jnp.int32)), method="decode")
    b = exp.model.apply(variables, z, exp.model.one_hot(jnp.ones(4, jnp.int32)), method="decode")
    assert not np.allclose(a.logits, b.logits)
    post = exp.model.apply(
        variables, x, exp.model.one_hot(jnp.zeros(4, jnp.int32)), method="encode"
    )
    assert post.loc.shape == (4, 4)


def test_num_classes_must_cover_the_labels():
    with pytest.raises(ConfigError, match="model.num_classes=2.*set model.num_classes=3"):
        build.load_data(tiny_config(**{"model.num_classes": 2}), "train")


def test_balanced_subset_is_balanced_deterministic_and_key_dependent(key):
    labels = np.repeat(np.arange(4), 50)[np.random.default_rng(0).permutation(200)]
    idx = balanced_subset(labels, 5, 4, key)
    assert len(set(idx.tolist())) == 20
    np.testing.assert_array_equal(np.bincount(labels[idx], minlength=4), [5, 5, 5, 5])
    np.testing.assert_array_equal(idx, balanced_subset(labels, 5, 4, key))
    assert not np.array_equal(idx, balanced_subset(labels, 5, 4, jax.random.key(1)))
    with pytest.raises(ConfigError, match="class 0"):
        balanced_subset(labels, 51, 4, key)


def _m2_config(**extra):
    return tiny_config(
        **{
            "objective.name": "m2",
            "model.num_classes": 3,
            "data.num_labelled": 30,
            "data.labelled_batch_size": 12,
            **SMALL_CRITIC,
            **extra,
        }
    )


def test_m2_marginalises_labels_exactly(key):
    config = _m2_config()
    ds, exp = _experiment(config)
    model = exp.model
    state = init_state(exp, ds.info.shape, key)
    variables = {"params": state.params}
    b, k = 8, 3
    x = jnp.asarray(ds.images[:b])
    xl, yl = jnp.asarray(ds.images[8:12]), jnp.asarray(ds.labels[8:12])
    batch = {
        "image": x,
        "label": jnp.zeros(b, jnp.int32),
        "labelled_image": xl,
        "labelled_label": yl,
    }
    hp = build.hparams_as_arrays(exp.hparams)
    terms = model.apply(variables, batch, key, hp, step=0, train=False, method=m2)

    # Reference, label by label: -ELBO(x, y) + log K with the objective's noise rows for label y,
    # then U = sum_y q(y|x) (L_y + log q(y|x)) in float64 numpy.
    u_key, l_key = jax.random.split(key)
    eps = np.asarray(jax.random.normal(u_key, (k * b, 4)))
    bounds = np.zeros((b, k))
    for y in range(k):
        onehot = model.one_hot(jnp.full((b,), y))
        post = model.apply(variables, x, onehot, method="encode")
        z = post.loc + jnp.exp(0.5 * post.log_var) * eps[y * b : (y + 1) * b]
        recon = -model.apply(variables, z, onehot, method="decode").log_prob(x)
        kl = post.kl_divergence(model.apply(variables, method="prior_dist").as_gaussian())
        bounds[:, y] = np.asarray(recon + kl) + math.log(k)
    logits = model.apply(variables, x, method=lambda m, x: m.classifier(x))
    log_q = np.asarray(jax.nn.log_softmax(logits, -1), np.float64)
    expected_u = (np.exp(log_q) * (bounds + log_q)).sum(-1)
    np.testing.assert_allclose(terms.terms["unlabelled_bound"], expected_u, rtol=2e-5)

    lab_logits = model.apply(variables, xl, method=lambda m, x: m.classifier(x))
    ce = -np.asarray(jax.nn.log_softmax(lab_logits, -1))[np.arange(4), np.asarray(yl)]
    np.testing.assert_allclose(terms.terms["classification_ce"], np.full(b, ce.mean()), rtol=1e-5)
    expected_loss = (
        expected_u
        + float(hp["labelled_weight"]) * np.asarray(terms.terms["labelled_bound"])
        + float(hp["classification_weight"]) * ce.mean()
    )
    np.testing.assert_allclose(terms.loss, expected_loss, rtol=2e-5)


def test_m2_trains_with_a_labelled_pool(tmp_path):
    config = _m2_config(**{"train.num_steps": 40})
    ds, exp = _experiment(config)
    pool = stream_pools(exp, ds)["labelled"]
    assert len(pool) == 30 and np.bincount(ds.labels[pool], minlength=3).tolist() == [10, 10, 10]
    assert device_data(ds, {"labelled": pool}).pools["labelled"].shape == (30,)
    summary = train(config, tmp_path)
    final = summary["final_train_metrics"]
    assert math.isfinite(final["loss"]) and 0 <= final["labelled_accuracy"] <= 1
    assert summary["train_compilations"] == 1


def test_m2_refuses_a_config_without_labelled_pool():
    with pytest.raises(ConfigError, match="data.num_labelled"):
        _experiment(_m2_config(**{"data.num_labelled": 0}))
    ds, exp = _experiment(_m2_config(**{"data.num_labelled": 31}))
    with pytest.raises(ConfigError, match="multiple of model.num_classes"):
        stream_pools(exp, ds)
