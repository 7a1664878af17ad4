"""Test-set likelihood: the ELBO, the streamed IWAE bound, reconstruction error, active units.

Randomness is per example and per sample: sample ``k`` of example ``i`` is drawn from
``fold_in(fold_in(key, i), k)``, so a value never depends on the batch size nor on how the
importance samples are split into chunks. The one-sample ELBO uses sample ``k = 0``, the same
``z`` that the first importance weight uses.

The estimators themselves (on distributions and callables) are in
:mod:`aejax.evaluation.estimators`; this module runs them over a split, batched and chunked.

References:
  Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016 (eq. 8 the
  bound; section 5.2 the active-units statistic).
"""

from __future__ import annotations

import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from aejax.distributions import Bernoulli
from aejax.evaluation import bits
from aejax.evaluation.estimators import (  # the estimators this module runs over a split
    Decode,
    Encode,
    PriorFn,
    draw_posterior,
    flat_event,
    has_density,
    iwae_log_marginal,
    iwae_log_weights,
    log_importance_weights,
    model_fns,
    num_sample_chunks,
    samples_per_call,
    streamed_log_mean_exp,
    tiled_log_likelihood,
)
from aejax.objectives.elbo import kl_to_prior
from aejax.train.epochs import BINARIZE_MODES, binarize_dynamic
from aejax.train.rng import example_keys
from aejax.types import PRNGKey

__all__ = [  # the estimators are re-exported: callers import them from here too
    "ACTIVE_UNIT_THRESHOLD",
    "Decode",
    "Encode",
    "PriorFn",
    "active_units",
    "draw_posterior",
    "eval_inputs",
    "evaluate_split",
    "flat_event",
    "has_density",
    "iwae_log_marginal",
    "iwae_log_weights",
    "iwae_nll",
    "log_importance_weights",
    "model_fns",
    "num_sample_chunks",
    "per_example_metrics",
    "streamed_log_mean_exp",
    "tiled_log_likelihood",
]

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active if Cov_x(E_q[z]) > 0.01


def eval_inputs(images: np.ndarray, binarize: str, binarize_key: PRNGKey | None) -> np.ndarray:
    """The images a model is evaluated on: ``float32 [N, H, W, C]``.

    ``"dynamic"``: binarised once, deterministically, with ``binarize_dynamic(binarize_key,
    epoch=0, example index, x)``; ``"static"``: already thresholded by the loader, untouched;
    ``"none"``: untouched.
    """
    if binarize not in BINARIZE_MODES:
        raise ValueError(f"binarize={binarize!r}; choose one of {', '.join(BINARIZE_MODES)}")
    images = np.asarray(images, np.float32)
    if binarize != "dynamic":
        return images
    if binarize_key is None:
        raise ValueError("binarize='dynamic' needs a binarize_key")
    ids = jnp.arange(images.shape[0])
    return np.asarray(jax.jit(binarize_dynamic)(binarize_key, 0, ids, jnp.asarray(images)))


def _run_batched(
    fn,
    variables,
    images: np.ndarray,
    batch_size: int,
    progress: bool,
    desc: str,
    labels: np.ndarray | None = None,
):
    """Applies jitted ``fn(variables, x [B,...], ids int[B][, labels int[B]]) -> {name: [B, ...]}``
    to every batch (``labels`` only when given).

    The last batch is zero-padded to ``batch_size`` (one compiled shape) and the padding dropped,
    so the returned host arrays have exactly ``N`` rows.
    """
    n = images.shape[0]
    out: dict[str, list[np.ndarray]] = {}
    with tqdm(total=n, desc=desc, unit="ex", file=sys.stderr, disable=not progress) as bar:
        for start in range(0, n, batch_size):
            x = images[start : start + batch_size]
            valid = x.shape[0]
            if valid < batch_size:
                pad = np.zeros((batch_size - valid, *x.shape[1:]), x.dtype)
                x = np.concatenate([x, pad])
            ids = np.arange(start, start + batch_size, dtype=np.int32)
            args = (variables, x, ids)
            if labels is not None:
                y = np.zeros(batch_size, np.int32)
                y[:valid] = labels[start : start + valid]
                args += (y,)
            for name, value in fn(*args).items():
                out.setdefault(name, []).append(np.asarray(value)[:valid])
            bar.update(valid)
    return {name: np.concatenate(parts) for name, parts in out.items()}


def iwae_nll(
    model,
    variables,
    images: np.ndarray,
    key: PRNGKey,
    *,
    num_samples: int,
    batch_size: int,
    max_samples_per_call: int = 1_000_000,
    progress: bool = True,
) -> np.ndarray:
    """IWAE estimate of ``-log p(x)`` per example, ``float64 [N]`` (nats); ``K = num_samples``.

    ``images: [N, H, W, C]`` as the model sees them (see :func:`eval_inputs`). Example ``i`` uses
    ``fold_in(key, i)``; at most ``max_samples_per_call`` decoder evaluations are live at once.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    batch_size = max(1, min(int(batch_size), images.shape[0]))
    _, chunk = num_sample_chunks(num_samples, batch_size, samples_per_call(max_samples_per_call))
    fn = functools.partial(_iwae_batch_fn(model, num_samples, chunk), key=key)
    nll = _run_batched(fn, variables, images, batch_size, progress, "iwae")["nll"]
    return nll.astype(np.float64)


@functools.lru_cache(maxsize=16)
def _iwae_batch_fn(model, num_samples: int, chunk: int):
    """Jitted ``(variables, x, ids, key) -> {"nll": [B]}``, cached so repeated calls reuse it."""

    @jax.jit
    def fn(variables, x, ids, key):
        encode, decode, prior = model_fns(model, variables)
        log_px = iwae_log_marginal(
            encode(x),
            prior(),
            tiled_log_likelihood(decode, x),
            example_keys(key, ids),
            num_samples,
            chunk,
        )
        return {"nll": -log_px}

    return fn


def active_units(posterior_means: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Number of latent dims whose variance over examples of ``E_q[z|x]`` exceeds ``threshold``.

    ``posterior_means: [N, D]``; the variance is the population one (divides by ``N``).
    """
    return int((np.var(np.asarray(posterior_means, np.float64), axis=0) > threshold).sum())


def _batch_metrics(encode, decode, prior_fn, x, keys, num_samples: int, chunk: int) -> dict:
    """Per-example metrics ``{name: [B] or [B, D]}`` for one batch (see :func:`evaluate_split`)."""
    posterior = encode(x)
    prior = prior_fn()
    loc = posterior.mean()
    at_mean = decode(loc)
    pixel_axes = tuple(range(1, x.ndim))
    out = {
        "posterior_mean": loc,
        "recon_mse": ((x - at_mean.mean()) ** 2).mean(axis=pixel_axes),
    }
    if isinstance(at_mean, Bernoulli):
        out["recon_bce"] = -at_mean.log_prob(x)
    if not has_density(posterior):
        out["recon_nats"] = -at_mean.log_prob(x)
        return out
    z0 = draw_posterior(posterior, keys, jnp.zeros((1,), jnp.int32))[0]
    out["recon_nats"] = -decode(z0).log_prob(x)
    # The training objective's KL: closed form when the pair has one, else one sample at z0.
    out["kl_nats"] = kl_to_prior(posterior, prior, z0)
    if hasattr(prior, "kl_from"):
        out["kl_per_dim"] = prior.kl_from(posterior)
    out["neg_elbo_nats"] = out["recon_nats"] + out["kl_nats"]
    if num_samples > 0:
        log_lik = tiled_log_likelihood(decode, x)
        log_px = iwae_log_marginal(posterior, prior, log_lik, keys, num_samples, chunk)
        out["iwae_nll_nats"] = -log_px
    return out


def _latent_batch_metrics(model, variables, x, keys, num_samples: int, chunk: int) -> dict:
    """:func:`_batch_metrics` for models with several stochastic layers, through
    ``model.sample_latent``: sample ``k`` of example ``b`` uses ``fold_in(keys[b], k)``."""

    def one(xb, key):
        latent = model.apply(variables, xb[None], key, method="sample_latent")
        log_lik = model.apply(variables, latent.z, method="decode").log_prob(xb[None])
        return latent, log_lik[0]

    def log_weights(ids):  # [S, B]
        def per_sample(k):
            latent, log_lik = jax.vmap(one)(x, jax.vmap(lambda kb: jax.random.fold_in(kb, k))(keys))
            return log_lik + latent.log_p[:, 0] - latent.log_q[:, 0]

        return jax.lax.map(per_sample, ids)

    latent0, log_lik0 = jax.vmap(one)(x, jax.vmap(lambda kb: jax.random.fold_in(kb, 0))(keys))
    summary = model.apply(variables, x, method="encode")
    at_mean = model.apply(variables, summary.loc[:, : latent0.z.shape[-1]], method="decode")
    pixel_axes = tuple(range(1, x.ndim))
    out = {
        "posterior_mean": summary.mean(),
        "recon_mse": ((x - at_mean.mean()) ** 2).mean(axis=pixel_axes),
        "recon_nats": -log_lik0,
        "kl_per_dim": latent0.kl_per_dim[:, 0],
    }
    if isinstance(at_mean, Bernoulli):
        out["recon_bce"] = -at_mean.log_prob(x)
    out["kl_nats"] = out["kl_per_dim"].sum(-1)
    out["neg_elbo_nats"] = out["recon_nats"] + out["kl_nats"]
    if num_samples > 0:
        out["iwae_nll_nats"] = -streamed_log_mean_exp(log_weights, x.shape[0], num_samples, chunk)
    return out


@functools.lru_cache(maxsize=16)
def _metrics_batch_fn(model, iwae_k: int, chunk: int):
    """Jitted ``(variables, x, ids, key, labels) -> per-example metrics``, cached across calls.

    ``labels`` (int ``[B]`` or None) condition a label-conditioned model (a CVAE's log p(x|y)).
    """

    @jax.jit
    def fn(variables, x, ids, key, labels=None):
        keys = example_keys(key, ids)
        if not hasattr(model, "prior"):  # several stochastic layers (HierarchicalAutoEncoder)
            return _latent_batch_metrics(model, variables, x, keys, iwae_k, chunk)
        cond = None if labels is None else model.one_hot(labels)
        encode, decode, prior = model_fns(model, variables, cond)
        return _batch_metrics(encode, decode, prior, x, keys, iwae_k, chunk)

    return fn


def per_example_metrics(
    model,
    variables,
    images: np.ndarray,
    key: PRNGKey,
    *,
    iwae_k: int = 0,
    batch_size: int = 500,
    max_samples_per_call: int = 1_000_000,
    progress: bool = False,
    desc: str = "eval",
    labels: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-example metrics of ``images [N, H, W, C]`` (already as the model sees them).

    Returns host arrays with ``N`` rows: ``posterior_mean [N, D]``, ``recon_mse [N]`` (mean over
    pixels), ``recon_nats [N]`` and, for models with a density, ``kl_nats``, ``neg_elbo_nats``,
    ``kl_per_dim [N, D]`` and (``iwae_k > 0``) ``iwae_nll_nats``; ``recon_bce`` for Bernoulli.
    Example ``i`` draws from ``fold_in(key, i)`` (see :func:`evaluate_split`).
    """
    if iwae_k < 0:
        raise ValueError(f"iwae_k must be >= 0, got {iwae_k}")
    n = images.shape[0]
    batch_size = max(1, min(int(batch_size), n))
    _, chunk = num_sample_chunks(max(iwae_k, 1), batch_size, samples_per_call(max_samples_per_call))
    batched = _metrics_batch_fn(model, iwae_k, chunk)

    def fn(variables, x, ids, y=None):
        return batched(variables, x, ids, key, y)

    images = np.asarray(images, np.float32)
    return _run_batched(fn, variables, images, batch_size, progress, desc, labels)


def evaluate_split(
    model,
    variables,
    images: np.ndarray,
    key: PRNGKey,
    *,
    iwae_k: int,
    batch_size: int,
    max_samples_per_call: int = 1_000_000,
    binarize: str = "none",
    binarize_key: PRNGKey | None = None,
    progress: bool = True,
    labels: np.ndarray | None = None,
    iwae_num_examples: int | None = None,
) -> dict:
    """Means over exactly the ``N`` examples of ``images: float32 [N, H, W, C]`` in [0, 1].

    ``labels int[N]`` condition a label-conditioned model (then every number is given y).
    ``iwae_num_examples`` (``M < N``) computes the IWAE bound on the first ``M`` examples only
    (their values are the ones a pass over all ``N`` would give them); everything else is over
    all ``N``.

    Inputs are first passed through :func:`eval_inputs` (``"dynamic"`` binarises once with a
    fixed key per example: epoch 0 of ``binarize_key``). Example ``i`` draws its samples from
    ``fold_in(key, i)``. One compiled function serves every batch (the last one is padded).

    Returns a dict of floats (nats per example unless noted) and two strings:
      ``recon_mse``: mean over pixels and examples of ``(x - E[p(x|z = E_q[z])])^2``;
      ``recon_bce`` (Bernoulli likelihood): ``-log p(x|z = E_q[z])`` summed over pixels;
      ``recon_nats``, ``kl_nats``, ``neg_elbo_nats``: one-sample reconstruction (sample 0), the
        analytic KL and their sum. For a posterior without a density (Delta) only ``recon_nats``
        (at the code), with no KL, ELBO, IWAE or bits/dim;
      ``iwae_nll_nats`` (``iwae_k > 0``): the streamed IWAE estimate of ``-log p(x)``, over
        ``iwae_num_examples`` examples (``N`` unless fewer were asked for);
      ``neg_elbo_nats_on_iwae_examples`` (IWAE on ``M < N`` only): the negative ELBO of those
        ``M``, the bound to compare ``iwae_nll_nats`` with;
      ``bits_per_dim``: ``iwae_nll_nats`` when it covers all ``N``, else ``neg_elbo_nats``, in
        bits per dimension (``H W C``) by the rule of :mod:`aejax.evaluation.bits` for this
        likelihood and these pixel values; absent where it has no meaning;
      ``bits_per_dim_kind`` (str or None): ``"discrete"`` (``nats / (H W C ln 2)``),
        ``"density+8bit-discretisation"`` (a density on 8-bit data: ``+ 8`` bits per dimension)
        or ``None`` (no ``bits_per_dim``); ``bits_per_dim_reason``: one line saying why;
      ``kl_per_dim``: list ``[D]`` of mean KL per latent dim (analytic KL only);
      ``iwae_num_examples``: int, the examples the IWAE bound covers (0 without IWAE);
      ``posterior_mean_var``: list ``[D]``, variance over examples of ``E_q[z|x]``;
      ``active_units``: int, dims whose ``posterior_mean_var`` exceeds 0.01;
      ``num_examples``: ``N``.
    """
    x_all = eval_inputs(images, binarize, binarize_key)
    n = x_all.shape[0]
    m = n if not iwae_num_examples else min(int(iwae_num_examples), n)
    common = dict(batch_size=batch_size, max_samples_per_call=max_samples_per_call)
    per_example = per_example_metrics(
        model,
        variables,
        x_all,
        key,
        iwae_k=iwae_k if m == n else 0,
        progress=progress,
        labels=labels,
        desc="eval" if m == n or not iwae_k else "elbo",
        **common,
    )
    subset = None
    if iwae_k and m < n:  # the same per-example keys: the values a full pass gives them
        subset = per_example_metrics(
            model,
            variables,
            x_all[:m],
            key,
            iwae_k=iwae_k,
            progress=progress,
            labels=None if labels is None else labels[:m],
            desc="iwae",
            **common,
        )
    means = per_example.pop("posterior_mean").astype(np.float64)
    result: dict = {
        name: float(np.mean(v.astype(np.float64))) for name, v in per_example.items() if v.ndim == 1
    }
    if subset is not None:
        result["iwae_nll_nats"] = float(np.mean(subset["iwae_nll_nats"].astype(np.float64)))
        if "neg_elbo_nats" in subset:
            elbo = subset["neg_elbo_nats"].astype(np.float64)
            result["neg_elbo_nats_on_iwae_examples"] = float(np.mean(elbo))
    if "kl_per_dim" in per_example:
        result["kl_per_dim"] = per_example["kl_per_dim"].astype(np.float64).mean(0).tolist()
    num_dims = int(np.prod(x_all.shape[1:]))
    bound = "iwae" if "iwae_nll_nats" in result and subset is None else "neg_elbo"
    nll = result["iwae_nll_nats"] if bound == "iwae" else result.get("neg_elbo_nats")
    rule = bits.rule(bits.decoder_distribution(model, variables, x_all), x_all)
    if nll is None:
        rule = bits.BitsRule(None, None, "no bound on -log p(x): q(z|x) has no density")
    if rule.kind is not None:
        result["bits_per_dim"] = rule.bits_per_dim(nll, num_dims)
    result["bits_per_dim_kind"] = rule.kind
    result["bits_per_dim_reason"] = rule.reason
    result["iwae_num_examples"] = m if "iwae_nll_nats" in result else 0
    result["posterior_mean_var"] = np.var(means, axis=0).tolist()
    result["active_units"] = active_units(means)
    result["num_examples"] = n
    return result
