"""Test-set likelihood: the ELBO, the streamed IWAE bound, reconstruction error, active units.

Randomness is per example and per sample: sample ``k`` of example ``i`` is drawn from
``fold_in(fold_in(key, i), k)``, so a value never depends on the batch size nor on how the
importance samples are split into chunks. The one-sample ELBO uses sample ``k = 0``, the same
``z`` that the first importance weight uses.

The estimator functions take distributions and callables, not a flax model, so they can be
tested on plain distributions; :func:`model_fns` turns a model and its variables into those
callables.

References:
  Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016 (eq. 8 the
  bound; section 5.2 the active-units statistic).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from aejax.distributions import Bernoulli
from aejax.evaluation import bits
from aejax.objectives.elbo import kl_to_prior
from aejax.train.epochs import BINARIZE_MODES, binarize_dynamic
from aejax.train.rng import example_keys
from aejax.types import Array, PRNGKey

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active if Cov_x(E_q[z]) > 0.01

Encode = Callable[[Array], object]  # x [B, H, W, C] -> q(z|x) with batch shape [B]
Decode = Callable[[Array], object]  # z [B, D] -> p(x|z) with log_prob summed over [H, W, C]
PriorFn = Callable[[], object]  # () -> p(z)


def model_fns(model, variables, cond: Array | None = None) -> tuple[Encode, Decode, PriorFn]:
    """``(encode, decode, prior)`` as pure functions of arrays, closing over ``variables``.

    ``cond [B, num_classes]`` (a conditional model's one-hot labels) is passed to both; the
    decoder may get ``S * B`` codes (sample-major), for which ``cond`` is tiled ``S`` times.
    """

    def encode(x: Array):
        return model.apply(variables, x, cond, method=lambda m, x, c: m.encode(x, c))

    def decode(z: Array):
        c = None if cond is None else jnp.tile(cond, (z.shape[0] // cond.shape[0], 1))
        return model.apply(variables, z, c, method=lambda m, z, c: m.decode(z, c))

    def prior():
        return model.apply(variables, method=lambda m: m.prior_dist())

    return encode, decode, prior


def has_density(posterior) -> bool:
    """Whether q(z|x) has a density (a Delta posterior of a deterministic AE does not)."""
    return hasattr(posterior, "log_prob")


def draw_posterior(posterior, keys: PRNGKey, sample_ids: Array) -> Array:
    """Reparameterised ``z [S, B, D]``; sample ``k`` of example ``b`` uses ``fold_in(keys[b], k)``.

    ``posterior`` has batch shape ``[B]`` (every leaf leads with ``B``); ``keys: [B]``;
    ``sample_ids: int[S]``.
    """

    s, b = sample_ids.shape[0], keys.shape[0]
    # Flattened sample-major (index s * B + b): one level of vmap compiles much faster on CPU.
    flat_keys = jax.vmap(jax.random.fold_in)(jnp.tile(keys, s), jnp.repeat(sample_ids, b))
    flat_post = jax.tree_util.tree_map(lambda a: jnp.tile(a, (s,) + (1,) * (a.ndim - 1)), posterior)
    z = jax.vmap(lambda post, key: post.sample(key))(flat_post, flat_keys)
    return z.reshape((s, b, *z.shape[1:]))


def flat_event(dist, event_shape: tuple[int, ...]):
    """``dist`` with its ``event_shape`` axes merged into one axis of ``prod(event_shape)``.

    For elementwise likelihoods (``Bernoulli``, ``Gaussian``) that carry an ``event_ndim`` field;
    others are returned unchanged. Why: images ``[.., H, W, 1]`` end in a size-1 channel axis, and
    XLA:CPU does not vectorise elementwise loops whose minor axis has size 1. Merging the pixels
    made the IWAE log-likelihood 2-4x faster on CPU with the same value (see the README).
    """
    k = len(event_shape)
    if getattr(dist, "event_ndim", None) != k or not hasattr(dist, "replace"):
        return dist
    size = math.prod(event_shape)

    def merge(a):
        a = jnp.asarray(a)
        if a.ndim >= k and tuple(a.shape[a.ndim - k :]) == tuple(event_shape):
            return a.reshape((*a.shape[: a.ndim - k], size))
        if a.size == 1:  # a scalar parameter (e.g. a shared log_scale) broadcasts as it is
            return a.reshape(())
        raise ValueError(f"cannot merge event axes {event_shape} of a parameter shaped {a.shape}")

    leaves = {
        f.name: merge(getattr(dist, f.name))
        for f in dataclasses.fields(dist)
        if f.metadata.get("pytree_node", True)
    }
    return dist.replace(event_ndim=1, **leaves)


def tiled_log_likelihood(decode: Decode, x: Array) -> Callable[[Array], Array]:
    """``z [S, B, D] -> log p(x|z) [S, B]`` (nats), decoding all ``S * B`` codes in one call.

    ``x [B, ...]`` is broadcast against the ``[S, B, ...]`` decoder outputs, not tiled, and the
    pixel axes are merged (:func:`flat_event`) so the elementwise work vectorises.
    """
    event_shape = tuple(x.shape[1:])
    x_flat = x.reshape((x.shape[0], -1))

    def log_likelihood(z: Array) -> Array:
        s, b = z.shape[:2]
        dist = flat_event(decode(z.reshape((s * b, -1))), event_shape)
        dist = jax.tree_util.tree_map(
            lambda a: a.reshape((s, b, *a.shape[1:])) if a.ndim and a.shape[0] == s * b else a,
            dist,
        )
        return dist.log_prob(x_flat)

    return log_likelihood


def log_importance_weights(
    posterior, prior, log_likelihood: Callable[[Array], Array], keys: PRNGKey, sample_ids: Array
) -> Array:
    """``log p(x|z_k) + log p(z_k) - log q(z_k|x)`` for ``z_k ~ q(z|x)``: ``[S, B]`` (nats).

    Args:
      posterior: q(z|x) with batch shape ``[B]`` and ``log_prob: [..., D] -> [...]``.
      prior: p(z) with ``log_prob: [..., D] -> [...]``.
      log_likelihood: ``z [S, B, D] -> log p(x_b|z) [S, B]``.
      keys: one key per example, ``[B]``.
      sample_ids: which samples to draw, ``int[S]`` (see :func:`draw_posterior`).
    """
    z = draw_posterior(posterior, keys, sample_ids)
    return log_likelihood(z) + prior.log_prob(z) - posterior.log_prob(z)


def num_sample_chunks(num_samples: int, batch_size: int, max_samples_per_call: int):
    """``(num_chunks, chunk)``: ``num_samples`` split so ``batch_size * chunk`` stays within
    ``max_samples_per_call`` (at least one sample per chunk), in near-equal chunks."""
    cap = max(1, int(max_samples_per_call) // max(1, batch_size))
    num_chunks = -(-num_samples // cap)
    return num_chunks, -(-num_samples // num_chunks)


def iwae_log_marginal(
    posterior,
    prior,
    log_likelihood: Callable[[Array], Array],
    keys: PRNGKey,
    num_samples: int,
    chunk: int,
) -> Array:
    """The IWAE bound ``logsumexp_k w_k - log K`` per example, ``[B]`` (nats).

    Weights are computed ``chunk`` samples at a time inside a ``lax.fori_loop`` and merged into
    a running ``(max, sum of exp)`` pair, so memory is ``O(chunk * B)`` whatever ``K`` is. The last
    chunk is padded and its surplus samples masked, so every chunk has one shape.
    """
    return streamed_log_mean_exp(
        lambda ids: log_importance_weights(posterior, prior, log_likelihood, keys, ids),
        keys.shape[0],
        num_samples,
        chunk,
    )


def streamed_log_mean_exp(
    log_weights: Callable[[Array], Array], batch: int, num_samples: int, chunk: int
) -> Array:
    """``log (1/K) sum_k exp(w_k)`` per example ``[B]`` for ``log_weights(ids int[S]) -> [S, B]``,
    computed ``chunk`` samples at a time with a running ``(max, sum of exp)`` pair."""
    num_chunks = -(-num_samples // chunk)

    def body(c, carry):
        running_max, running_sum = carry
        ids = c * chunk + jnp.arange(chunk)
        w = log_weights(ids)
        w = jnp.where((ids < num_samples)[:, None], w, -jnp.inf)
        new_max = jnp.maximum(running_max, w.max(axis=0))
        shift = jnp.where(jnp.isfinite(new_max), new_max, 0.0)
        running_sum = running_sum * jnp.exp(running_max - shift) + jnp.exp(w - shift[None]).sum(0)
        return new_max, running_sum

    init = (jnp.full((batch,), -jnp.inf, jnp.float32), jnp.zeros((batch,), jnp.float32))
    running_max, running_sum = jax.lax.fori_loop(0, num_chunks, body, init)
    return running_max + jnp.log(running_sum) - math.log(num_samples)


@functools.partial(jax.jit, static_argnums=(0, 4))
def iwae_log_weights(
    model, variables, x: Array, keys: PRNGKey, num_samples: int, start: int = 0
) -> Array:
    """Log importance weights ``[num_samples, B]`` of samples ``start, start + 1, ...`` (nats).

    ``x: [B, H, W, C]``; ``keys: [B]`` one per example (e.g. ``example_keys(key, ids)``).
    Jitted; ``model`` and ``num_samples`` are static.
    """
    encode, decode, prior = model_fns(model, variables)
    ids = start + jnp.arange(num_samples)
    return log_importance_weights(encode(x), prior(), tiled_log_likelihood(decode, x), keys, ids)


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
    _, chunk = num_sample_chunks(num_samples, batch_size, max_samples_per_call)
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
    _, chunk = num_sample_chunks(max(iwae_k, 1), batch_size, max_samples_per_call)
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
