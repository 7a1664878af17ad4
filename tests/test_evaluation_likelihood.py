"""The IWAE / ELBO evaluation: agreement with closed forms and a NumPy reference, chunking,
batching, active units."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import build, defaults
from aejax.distributions import DiagonalGaussian, StandardNormal
from aejax.distributions.posteriors import LOG_VAR_MAX, LOG_VAR_MIN
from aejax.evaluation import estimators
from aejax.evaluation import likelihood as lk
from aejax.train.rng import example_keys

SHAPE = (4, 4, 1)
LATENT = 3


def _model(posterior="gaussian", likelihood="bernoulli", seed=0):
    c = defaults.base_config()
    c.model.latent_dim = LATENT
    c.model.posterior = posterior
    c.model.likelihood = likelihood
    c.model.encoder.hidden = (16,)
    c.model.decoder.hidden = (16,)
    model = build.build_model(c, SHAPE)
    return model, model.init(jax.random.key(seed), jnp.zeros((1, *SHAPE)))


def _binary_images(n, seed=0):
    return (np.random.RandomState(seed).rand(n, *SHAPE) > 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def vae():
    return _model()


def _np_normal_logpdf(x, mean, var):
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def test_iwae_k1_equals_single_sample_elbo_in_numpy(vae):
    model, variables = vae
    x = _binary_images(6)
    keys = example_keys(jax.random.key(3), jnp.arange(6))
    w = np.asarray(lk.iwae_log_weights(model, variables, jnp.asarray(x), keys, 1))
    assert w.shape == (1, 6)

    encode, decode, _ = lk.model_fns(model, variables)
    post = encode(jnp.asarray(x))
    loc, var = np.asarray(post.loc, np.float64), np.exp(np.asarray(post.log_var, np.float64))
    eps = np.stack(
        [np.asarray(jax.random.normal(jax.random.fold_in(k, 0), (LATENT,))) for k in keys]
    )
    z = loc + np.sqrt(var) * eps
    logits = np.asarray(decode(jnp.asarray(z, jnp.float32)).logits, np.float64)
    log_lik = (x * -np.logaddexp(0, -logits) + (1 - x) * -np.logaddexp(0, logits)).sum((1, 2, 3))
    elbo = log_lik + _np_normal_logpdf(z, 0.0, 1.0).sum(-1) - _np_normal_logpdf(z, loc, var).sum(-1)
    np.testing.assert_allclose(w[0], elbo, rtol=1e-5, atol=1e-4)
    nll = lk.iwae_nll(
        model, variables, x, jax.random.key(3), num_samples=1, batch_size=4, progress=False
    )
    np.testing.assert_allclose(nll, -elbo, rtol=1e-5, atol=1e-4)


def test_iwae_tightens_with_k_and_beats_the_elbo(vae):
    model, variables = vae
    x = _binary_images(200, seed=1)
    keys = example_keys(jax.random.key(0), jnp.arange(200))
    w = np.asarray(lk.iwae_log_weights(model, variables, jnp.asarray(x), keys, 100), np.float64)
    # E[IWAE_K], estimated from the same 100 draws split into 100 / K disjoint groups of K.
    bound = {
        k: float(np.mean(jax.scipy.special.logsumexp(w.reshape(100 // k, k, -1), 1) - np.log(k)))
        for k in (1, 10, 100)
    }
    assert bound[1] < bound[10] < bound[100]
    res = lk.evaluate_split(
        model, variables, x, jax.random.key(0), iwae_k=100, batch_size=200, progress=False
    )
    assert res["iwae_nll_nats"] == pytest.approx(-bound[100], rel=1e-5)
    assert res["iwae_nll_nats"] < res["neg_elbo_nats"]
    assert res["neg_elbo_nats"] == pytest.approx(res["recon_nats"] + res["kl_nats"], rel=1e-6)
    assert res["bits_per_dim"] == pytest.approx(res["iwae_nll_nats"] / (16 * math.log(2)))


def test_chunked_iwae_equals_unchunked(vae):
    model, variables = vae
    x = jnp.asarray(_binary_images(4, seed=2))
    keys = example_keys(jax.random.key(5), jnp.arange(4))
    k = 10
    w = lk.iwae_log_weights(model, variables, x, keys, k)
    direct = np.asarray(jax.scipy.special.logsumexp(w, axis=0) - math.log(k))
    assert lk.num_sample_chunks(5000, 500, 1_000_000) == (3, 1667)
    assert lk.num_sample_chunks(10, 4, 12) == (4, 3)

    def nll(max_samples_per_call):
        return lk.iwae_nll(
            model,
            variables,
            np.asarray(x),
            jax.random.key(5),
            num_samples=k,
            batch_size=4,
            max_samples_per_call=max_samples_per_call,
            progress=False,
        )

    full = nll(10**6)
    # 12 samples per call for 4 examples: chunks of 3, the last one padded and masked
    small = nll(12)
    np.testing.assert_allclose(small, full, rtol=1e-5)
    np.testing.assert_allclose(full, -direct, rtol=1e-5)


def _dense(layer, h):
    return h @ np.asarray(layer["kernel"], np.float64) + np.asarray(layer["bias"], np.float64)


def _numpy_iwae(params, x, key, num_samples):
    """``log (1/K) sum_k p(x, z_k) / q(z_k|x)`` per example in float64, one sample at a time.

    The noise is the estimator's contract: sample ``k`` of example ``i`` is
    ``normal(fold_in(fold_in(key, i), k), (D,))``.
    """
    enc, dec = params["encoder"], params["decoder"]
    flat = x.reshape(len(x), -1).astype(np.float64)
    h = _dense(enc["Dense_1"], np.maximum(_dense(enc["Dense_0"], flat), 0.0))
    loc, log_var = np.split(_dense(params["posterior_head"]["Dense_0"], h), 2, axis=-1)
    log_var = np.clip(log_var, LOG_VAR_MIN, LOG_VAR_MAX)
    keys = example_keys(key, jnp.arange(len(x)))
    out = []
    for i in range(len(x)):
        draw = lambda k, key=keys[i]: jax.random.normal(jax.random.fold_in(key, k), (LATENT,))
        eps = np.asarray(jax.vmap(draw)(jnp.arange(num_samples)), np.float64)
        z = loc[i] + np.exp(0.5 * log_var[i]) * eps  # [K, D]
        logits = _dense(dec["Dense_1"], np.maximum(_dense(dec["Dense_0"], z), 0.0))
        log_px_z = (flat[i] * logits - np.logaddexp(0.0, logits)).sum(-1)
        log_pz = _np_normal_logpdf(z, 0.0, 1.0).sum(-1)
        log_qz = _np_normal_logpdf(z, loc[i], np.exp(log_var[i])).sum(-1)
        w = log_px_z + log_pz - log_qz
        out.append(np.logaddexp.reduce(w) - np.log(num_samples))
    return np.array(out)


def test_evaluation_path_equals_a_numpy_reference_of_the_estimator(vae, monkeypatch):
    model, variables = vae
    x = (np.random.RandomState(0).rand(6, *SHAPE) > 0.5).astype(np.float32)
    key, k = jax.random.key(7), 37
    expected = _numpy_iwae(variables["params"], x, key, k)
    # A CPU cap of 20 evaluations with batches of 4 examples: chunks of 5 samples, 8 of them
    # (the last one padded), and the last batch of examples padded too.
    monkeypatch.setattr(estimators, "CPU_SAMPLES_PER_CALL", 20)
    assert lk.samples_per_call(10**6, backend="cpu") == 20
    assert lk.num_sample_chunks(k, 4, lk.samples_per_call(10**6, backend="cpu")) == (8, 5)
    nll = lk.iwae_nll(model, variables, x, key, num_samples=k, batch_size=4, progress=False)
    np.testing.assert_allclose(-nll, expected, rtol=1e-5)
    metrics = lk.per_example_metrics(model, variables, x, key, iwae_k=k, batch_size=4)
    np.testing.assert_allclose(-metrics["iwae_nll_nats"], expected, rtol=1e-5)


def test_the_cpu_cap_only_lowers_the_memory_bound_and_only_on_cpu():
    assert lk.samples_per_call(100_000, backend="cpu") == estimators.CPU_SAMPLES_PER_CALL
    assert lk.samples_per_call(500, backend="cpu") == 500
    assert lk.samples_per_call(100_000, backend="gpu") == 100_000
    assert lk.samples_per_call(100_000, backend="tpu") == 100_000


def test_results_independent_of_batch_size_and_over_exactly_n(vae):
    model, variables = vae
    rng = np.random.RandomState(4)
    x = rng.rand(13, *SHAPE).astype(np.float32)  # grey levels: binarised by "dynamic"
    kwargs = dict(iwae_k=7, binarize="dynamic", binarize_key=jax.random.key(9), progress=False)
    ref = lk.evaluate_split(model, variables, x, jax.random.key(1), batch_size=13, **kwargs)
    for b in (5,):  # 13 is not a multiple of 5; 9 samples per call gives chunks of 1
        res = lk.evaluate_split(
            model, variables, x, jax.random.key(1), batch_size=b, max_samples_per_call=9, **kwargs
        )
        assert res["num_examples"] == 13
        for name, value in ref.items():
            if isinstance(value, str):
                assert res[name] == value, name
                continue
            np.testing.assert_allclose(res[name], value, rtol=1e-5, err_msg=name)
    binary = lk.eval_inputs(x, "dynamic", jax.random.key(9))
    assert set(np.unique(binary)) <= {0.0, 1.0}
    np.testing.assert_array_equal(lk.eval_inputs(x[:5], "dynamic", jax.random.key(9)), binary[:5])


def test_iwae_on_the_first_m_examples_gives_their_full_pass_values(vae):
    model, variables = vae
    rng = np.random.RandomState(5)
    x = rng.rand(13, *SHAPE).astype(np.float32)
    kwargs = dict(iwae_k=7, binarize="dynamic", binarize_key=jax.random.key(9), progress=False)
    full = lk.evaluate_split(model, variables, x, jax.random.key(1), batch_size=5, **kwargs)
    part = lk.evaluate_split(
        model, variables, x, jax.random.key(1), batch_size=5, iwae_num_examples=6, **kwargs
    )
    per_example = lk.per_example_metrics(
        model,
        variables,
        lk.eval_inputs(x, "dynamic", jax.random.key(9)),
        jax.random.key(1),
        iwae_k=7,
        batch_size=5,
    )
    assert full["iwae_num_examples"] == 13 and part["iwae_num_examples"] == 6
    np.testing.assert_allclose(
        part["iwae_nll_nats"], per_example["iwae_nll_nats"][:6].mean(), rtol=1e-5
    )
    np.testing.assert_allclose(
        part["neg_elbo_nats_on_iwae_examples"], per_example["neg_elbo_nats"][:6].mean(), rtol=1e-5
    )
    assert part["iwae_nll_nats"] != pytest.approx(full["iwae_nll_nats"], rel=1e-6)
    # Everything but the IWAE bound is still over all 13; bits/dim then comes from the ELBO.
    for name in ("neg_elbo_nats", "recon_nats", "kl_nats", "recon_mse", "active_units"):
        np.testing.assert_allclose(part[name], full[name], rtol=1e-5, err_msg=name)
    assert part["num_examples"] == 13
    assert part["bits_per_dim"] == pytest.approx(part["neg_elbo_nats"] / (16 * math.log(2)))
    assert full["bits_per_dim"] == pytest.approx(full["iwae_nll_nats"] / (16 * math.log(2)))


def _linear_gaussian(x, sigma, loc_shift=0.0, var_scale=1.0):
    """Prior N(0,1), p(x|z) = N(z, sigma^2): returns (posterior, prior, log_lik, log p(x))."""
    var = sigma**2
    post_var = var / (1 + var) * var_scale
    posterior = DiagonalGaussian(
        loc=jnp.asarray(x / (1 + var) + loc_shift, jnp.float32)[:, None],
        log_var=jnp.full((len(x), 1), math.log(post_var), jnp.float32),
    )
    xj = jnp.asarray(x, jnp.float32)

    def log_lik(z):  # [S, B, 1] -> [S, B]
        return -0.5 * (jnp.log(2 * jnp.pi * var) + (xj[None] - z[..., 0]) ** 2 / var)

    return posterior, StandardNormal(latent_dim=1), log_lik, _np_normal_logpdf(x, 0.0, 1 + var)


def test_iwae_is_exact_with_the_true_posterior_and_converges_otherwise():
    x = np.linspace(-2.0, 2.0, 9)
    keys = example_keys(jax.random.key(0), jnp.arange(len(x)))

    @jax.jit
    def estimates():  # one compilation for every case
        exact = _linear_gaussian(x, sigma=0.5)
        off = _linear_gaussian(x, 0.5, loc_shift=0.3, var_scale=2.0)
        return (
            [lk.iwae_log_marginal(*exact[:3], keys, k, chunk=3) for k in (1, 7)],
            [lk.iwae_log_marginal(*off[:3], keys, k, chunk=1000) for k in (1, 5000)],
        )

    (exact1, exact7), (off1, off5000) = estimates()
    log_px = _linear_gaussian(x, sigma=0.5)[3]
    np.testing.assert_allclose(exact1, log_px, atol=2e-5)
    np.testing.assert_allclose(exact7, log_px, atol=2e-5)
    assert np.mean(log_px - off1) > 0.1
    assert abs(np.mean(log_px - off5000)) < 0.01


def test_active_units_on_a_constructed_case():
    rng = np.random.RandomState(0)
    stds = np.array([0.0, 0.05, 0.2, 1.0])  # variances 0, 0.0025, 0.04, 1
    means = rng.randn(20000, 4) * stds + 3.0
    assert lk.active_units(means) == 2
    assert lk.active_units(means, threshold=0.001) == 3


def test_deterministic_autoencoder_reports_reconstruction_only():
    model, variables = _model(posterior="delta", likelihood="gaussian")
    x = np.random.RandomState(0).rand(7, *SHAPE).astype(np.float32)
    res = lk.evaluate_split(
        model, variables, x, jax.random.key(0), iwae_k=10, batch_size=4, progress=False
    )
    assert {"recon_nats", "recon_mse", "active_units"} <= set(res)
    assert not {"neg_elbo_nats", "iwae_nll_nats", "kl_nats", "bits_per_dim", "recon_bce"} & set(res)
    assert res["bits_per_dim_kind"] is None and "no density" in res["bits_per_dim_reason"]
    encode, decode, _ = lk.model_fns(model, variables)
    recon = np.asarray(decode(encode(jnp.asarray(x)).mean()).mean())
    assert res["recon_mse"] == pytest.approx(np.mean((x - recon) ** 2), rel=1e-5)


# ------------------------------------------------------------------------------ bits/dim


def _zeroed(likelihood):
    """A model whose parameters are all 0: q(z|x) = N(0, I) = p(z) for every x (so KL = 0 and
    every importance weight is log p(x|z)), and a decoder whose output is 0 for every z."""
    model, variables = _model(likelihood=likelihood)
    return model, jax.tree_util.tree_map(jnp.zeros_like, variables)


def _eight_bit_images(n, seed=0):
    return (np.random.RandomState(seed).randint(0, 256, (n, *SHAPE)) / 255.0).astype(np.float32)


def _bits(likelihood, x):
    model, variables = _zeroed(likelihood)
    return lk.evaluate_split(
        model, variables, x, jax.random.key(0), iwae_k=4, batch_size=8, progress=False
    )


def test_uniform_density_on_8_bit_data_is_8_bits_per_dim():
    # Logits 0: the continuous Bernoulli with lambda = 1/2 is the uniform density on [0, 1], so
    # log p(x|z) = 0 for every x and z, the IWAE NLL is 0 nats, and 256 equally likely levels
    # cost log2(256) = 8 bits each.
    res = _bits("continuous_bernoulli", _eight_bit_images(10))
    assert res["iwae_nll_nats"] == pytest.approx(0.0, abs=1e-4)
    assert res["bits_per_dim"] == pytest.approx(8.0, abs=1e-5)
    assert res["bits_per_dim_kind"] == "density+8bit-discretisation"


def test_gaussian_density_on_8_bit_data_adds_8_bits_to_its_own_in_numpy():
    # Loc 0 and sigma 1 whatever z: -log p(x) = sum (x^2 + log 2 pi) / 2 exactly.
    x = _eight_bit_images(10, seed=1)
    res = _bits("gaussian", x)
    nats = (0.5 * (x.astype(np.float64) ** 2 + np.log(2 * np.pi))).sum((1, 2, 3)).mean()
    assert res["iwae_nll_nats"] == pytest.approx(nats, rel=1e-5)
    assert res["bits_per_dim"] == pytest.approx(nats / (16 * math.log(2)) + 8.0, rel=1e-5)
    assert res["bits_per_dim_kind"] == "density+8bit-discretisation"


def test_discretized_logistic_on_8_bit_data_is_its_own_code_length():
    # loc 0.5 (the head's offset), scale 1: each level's mass from the logistic CDF in numpy,
    # edge bins open to -inf and +inf; the masses of all 256 levels sum to 1.
    x = _eight_bit_images(10, seed=2)
    res = _bits("logistic", x)
    edges = (np.arange(255) + 0.5) / 255 - 0.5
    cdf = np.concatenate([[0.0], 1 / (1 + np.exp(-edges)), [1.0]])
    mass = np.diff(cdf)
    assert mass.sum() == pytest.approx(1.0)
    k = np.rint(x * 255).astype(int)
    nats = -np.log(mass[k]).sum((1, 2, 3)).mean()
    assert res["iwae_nll_nats"] == pytest.approx(nats, rel=1e-4)
    assert res["bits_per_dim"] == pytest.approx(nats / (16 * math.log(2)), rel=1e-4)
    assert res["bits_per_dim_kind"] == "discrete"


def test_fair_coin_pixels_on_binary_data_are_1_bit_per_dim():
    res = _bits("bernoulli", _binary_images(10))
    assert res["bits_per_dim"] == pytest.approx(1.0, rel=1e-5)
    assert res["bits_per_dim_kind"] == "discrete"


@pytest.mark.parametrize(
    "likelihood, data, needle",
    [
        ("bernoulli", "8bit", "cross-entropy"),
        ("continuous_bernoulli", "binary", "unbounded"),
        ("gaussian", "continuous", "non-8-bit"),
        ("logistic", "continuous", "grid"),
    ],
)
def test_bits_per_dim_is_not_reported_where_it_has_no_meaning(likelihood, data, needle):
    x = {
        "8bit": _eight_bit_images(6),
        "binary": _binary_images(6),
        "continuous": np.random.RandomState(0).rand(6, *SHAPE).astype(np.float32),
    }[data]
    res = _bits(likelihood, x)
    assert "bits_per_dim" not in res and res["bits_per_dim_kind"] is None
    assert needle in res["bits_per_dim_reason"]
    assert np.isfinite(res["iwae_nll_nats"])  # the bound itself is still reported


def test_data_levels_tell_binary_8_bit_and_other_values_apart():
    from aejax.evaluation.bits import data_levels

    k = np.arange(256, dtype=np.uint8)
    assert data_levels(k.astype(np.float32) / np.float32(255.0)) == 256  # as the loaders scale
    assert data_levels(np.array([0.0, 1.0, 1.0], np.float32)) == 2
    assert data_levels((k[:4].astype(np.float32) + 0.5) / 256) is None  # another quantisation
    assert data_levels(k.astype(np.float32) / 255 + np.float32(0.01)) is None
