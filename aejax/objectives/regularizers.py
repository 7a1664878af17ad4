"""Regularisers of deterministic autoencoders: input corruption, sparse codes, contraction.

Each regulariser is an objective whose ``loss`` is its weighted penalty, to be added to a bound
with :func:`aejax.objectives.compose.combine`. The code is the posterior's mode (the Delta value,
or a Gaussian's mean) of the encoder input.

References:
  Vincent et al., "Extracting and Composing Robust Features with Denoising Autoencoders",
  ICML 2008 (masking noise); Vincent et al., JMLR 2010, section 4.1 (additive Gaussian noise).
  Ng, "Sparse autoencoder", CS294A lecture notes 2011, section 2.3 (KL to a target rate rho).
  Rifai et al., "Contractive Auto-Encoders", ICML 2011, eq. 7 (squared Frobenius norm of J_f(x)).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from aejax.errors import ConfigError
from aejax.objectives.inputs import encoder_input
from aejax.objectives.spec import ExtraTerm
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey

CORRUPTIONS = ("none", "gaussian", "masking")
# corruption -> (the hparam that sets its strength, whether that hparam is a probability)
CORRUPTION_HPARAMS = {"gaussian": ("noise_std", False), "masking": ("mask_prob", True)}


def corrupt(kind: str, key: PRNGKey, x: Array, hparams: HParams) -> Array:
    """``x`` with noise: ``gaussian`` adds ``noise_std * N(0, 1)`` (not clipped); ``masking``
    sets each pixel to 0 with probability ``mask_prob``. Same shape as ``x``."""
    if kind == "gaussian":
        return x + hparams["noise_std"] * jax.random.normal(key, x.shape, x.dtype)
    if kind == "masking":
        keep = jax.random.bernoulli(key, 1.0 - hparams["mask_prob"], x.shape)
        return jnp.where(keep, x, jnp.zeros_like(x))
    raise ValueError(f"unknown corruption {kind!r}; choose one of {', '.join(CORRUPTIONS)}")


def _code(model, batch: Batch, train: bool) -> Array:
    return model.encode(encoder_input(batch), model.condition(batch), train=train).mode()


def l1_code(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``l1_weight * ||code||_1`` per example; term ``code_l1`` (unweighted)."""
    del key, step
    l1 = jnp.abs(_code(model, batch, train)).sum(-1)
    return LossTerms(loss=hparams["l1_weight"] * l1, terms={"code_l1": l1})


def bernoulli_kl(rho: Array, rho_hat: Array) -> Array:
    """``KL(Bernoulli(rho) || Bernoulli(rho_hat))`` elementwise (nats)."""
    return rho * jnp.log(rho / rho_hat) + (1.0 - rho) * jnp.log((1.0 - rho) / (1.0 - rho_hat))


def sparsity_kl(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``sparsity_weight * sum_j KL(rho || rho_hat_j)`` with ``rho_hat_j`` the batch-mean
    activation ``sigmoid(code_j)`` and ``rho = sparsity_target``.

    A batch statistic, repeated per example. Terms: ``sparsity_kl`` (nats) and
    ``mean_activation`` (the mean of ``rho_hat`` over code units).
    """
    del key, step
    rho_hat = jax.nn.sigmoid(_code(model, batch, train)).mean(0)  # [D]
    # Keep log(rho_hat) finite when a unit saturates.
    rho_hat = jnp.clip(rho_hat, 1e-6, 1.0 - 1e-6)
    kl = bernoulli_kl(hparams["sparsity_target"], rho_hat).sum()
    full = lambda v: jnp.full(batch["image"].shape[:1], v)  # noqa: E731
    return LossTerms(
        loss=full(hparams["sparsity_weight"] * kl),
        terms={"sparsity_kl": full(kl), "mean_activation": full(rho_hat.mean())},
    )


def jacobian_frobenius_sq(fn: Callable[[Array], Array], x: Array) -> Array:
    """``||d fn(x)_b / d x_b||_F^2`` per example ``[B]`` for a row-wise ``fn: [B, ...] -> [B, D]``.

    One VJP per code unit (``D`` backward passes, cheaper than ``H*W*C`` forward ones). Row-wise
    means example ``b``'s code depends only on ``x_b``, so the cotangent ``e_d`` on every row at
    once returns each example's own Jacobian row. When rows are coupled (batch norm in training
    mode normalises with the batch's statistics) it returns instead, for each ``b``, the squared
    norm of ``sum_a d fn(x)_a / d x_b``, the sum of the cross-example Jacobians: the contractive
    term's check refuses ``model.encoder.norm='batch'`` for that reason.
    """
    out, vjp_fn = jax.vjp(fn, x)
    d = out.shape[-1]
    basis = jnp.eye(d, dtype=out.dtype)[:, None, :]  # [D, 1, D]
    cotangents = jnp.broadcast_to(basis, (d,) + out.shape)  # [D, B, D]
    (rows,) = jax.vmap(vjp_fn)(cotangents)  # [D, B, ...]
    return (rows**2).reshape(d, x.shape[0], -1).sum((0, 2))


def contractive(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``contractive_weight * ||J_f(x)||_F^2`` per example, with ``f`` the encoder's code;
    term ``jacobian_frobenius_sq``. ``f`` must be row-wise (no batch norm in the encoder, see
    :func:`jacobian_frobenius_sq`)."""
    del key, step
    cond = model.condition(batch)
    frob = jacobian_frobenius_sq(
        lambda x: model.encode(x, cond, train=train).mode(), encoder_input(batch)
    )
    return LossTerms(
        loss=hparams["contractive_weight"] * frob, terms={"jacobian_frobenius_sq": frob}
    )


def _check_rowwise_encoder(hparams, options, model) -> None:
    """:func:`jacobian_frobenius_sq` is per example only for a row-wise encoder."""
    del hparams, options
    if model.batch_coupled_encoder:
        raise ConfigError(
            "objective.contractive_weight > 0 needs each code to depend on its own input "
            "alone, but model.encoder.norm='batch' mixes the batch; use "
            "model.encoder.norm='layer' or 'group'"
        )


EXTRA_TERMS = {
    "l1": ExtraTerm(fn=l1_code, weights=("l1_weight",)),
    "sparsity": ExtraTerm(
        fn=sparsity_kl,
        weights=("sparsity_weight",),
        hparams=("sparsity_target",),
        fractions=("sparsity_target",),
    ),
    "contractive": ExtraTerm(
        fn=contractive, weights=("contractive_weight",), check=_check_rowwise_encoder
    ),
}
