"""Objectives that act on the aggregate posterior q(z) of a batch: beta-TCVAE and DIP-VAE.

beta-TCVAE splits the KL into index-code mutual information, total correlation and
dimension-wise KL, each with its own weight; ``log q(z)`` and ``log prod_j q(z_j)`` are estimated
from the batch with minibatch weighted (``mws``) or stratified (``mss``) sampling, which need the
dataset size ``N`` (``hparams["dataset_size"]``, filled in from the training split by
:func:`_with_dataset_size`).

DIP-VAE pushes the covariance of the aggregate posterior towards the identity: DIP-VAE-I uses
``Cov[mu(x)]``, DIP-VAE-II ``Cov[mu(x)] + E[diag sigma^2(x)]``. Batch statistics are repeated
per example so the terms stay ``[B]``.

References:
  Chen et al., "Isolating Sources of Disentanglement in VAEs", NeurIPS 2018, eqs. 2, S6 (MWS)
  and Appendix C.2 (MSS). The MSS weights follow the paper: weight ``1/N`` on each sample's own
  data point (the diagonal). The authors' ``log_importance_weight_matrix`` strides by the batch
  size and so fills column 0 instead (rtqichen/beta-tcvae pull request #1).
  Kumar, Sattigeri & Balakrishnan, "Variational Inference of Disentangled Latent Concepts from
  Unlabeled Observations", ICLR 2018, eqs. 7-9 (DIP-VAE-I and -II).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from aejax.errors import ConfigError
from aejax.objectives.elbo import kl_to_prior
from aejax.objectives.inputs import encoder_input
from aejax.objectives.spec import ExtraTerm, ObjectiveSpec, Option
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey

TC_ESTIMATORS = ("mss", "mws")
DIP_TYPES = ("i", "ii")
_LOG_2PI = math.log(2.0 * math.pi)


def pairwise_log_density(z: Array, loc: Array, log_var: Array) -> Array:
    """``log N(z_i[d]; loc_j[d], exp(log_var_j[d]))`` for every pair: ``[B, D] -> [B, B, D]``."""
    diff = z[:, None, :] - loc[None, :, :]
    return -0.5 * (_LOG_2PI + log_var[None, :, :] + diff**2 * jnp.exp(-log_var[None, :, :]))


def log_weights(estimator: str, batch_size: int, dataset_size: Array) -> Array:
    """``log r[i, j]``, the weight of ``q(z_i | x_j)`` in the estimate of ``q(z_i)``: ``[B, B]``.

    ``mws``: ``1 / (N M)`` everywhere. ``mss`` with ``M = B - 1``: ``1 / N`` on the diagonal,
    ``(N - M) / (N M)`` on ``(i, i + 1 mod B)``, ``1 / M`` elsewhere (each row sums to 1).
    """
    b = batch_size
    n = jnp.asarray(dataset_size, jnp.float32)
    if estimator == "mws":
        return jnp.full((b, b), -jnp.log(n * b))
    if estimator != "mss":
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {TC_ESTIMATORS}")
    m = b - 1
    eye = jnp.eye(b, dtype=bool)
    nxt = jnp.roll(eye, 1, axis=1)  # (i, i + 1 mod B)
    w = jnp.where(eye, 1.0 / n, jnp.where(nxt, (n - m) / (n * m), jnp.float32(1.0 / m)))
    return jnp.log(w)


def aggregate_log_densities(
    z: Array, loc: Array, log_var: Array, estimator: str, dataset_size: Array
) -> tuple[Array, Array]:
    """Estimates ``(log q(z_i), sum_d log q(z_i[d]))`` for each row of ``z: [B, D]``, where
    ``q`` is the aggregate of the batch's Gaussian posteriors ``N(loc_j, exp(log_var_j))``."""
    log_q = pairwise_log_density(z, loc, log_var)  # [B, B, D]
    log_r = log_weights(estimator, z.shape[0], dataset_size)  # [B, B]
    log_qz = jax.nn.logsumexp(log_r + log_q.sum(-1), axis=1)
    log_prod = jax.nn.logsumexp(log_r[:, :, None] + log_q, axis=1).sum(-1)
    return log_qz, log_prod


def beta_tcvae(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    estimator: str = "mss",
) -> LossTerms:
    """``-log p(x|z) + mi_weight * MI + tc_weight * TC + dwkl_weight * DWKL`` per example (alpha,
    beta, gamma of Chen et al.; 1, beta, 1 is beta-TCVAE), with one sample ``z`` per example.

    Per example: ``MI = log q(z|x) - log q(z)``, ``TC = log q(z) - sum_d log q(z_d)``,
    ``DWKL = sum_d log q(z_d) - log p(z)``; they sum to the Monte-Carlo KL. Terms (nats):
    ``recon``, ``kl`` (analytic when available), ``neg_elbo``, ``mi``, ``tc``, ``dwkl``.
    """
    del step
    x, cond = batch["image"], model.condition(batch)
    posterior = model.encode(encoder_input(batch), cond, train=train)
    z = posterior.sample(key)
    recon = -model.decode(z, cond, train=train).log_prob(x)
    prior = model.prior_dist()
    log_qz, log_prod = aggregate_log_densities(
        z, posterior.loc, posterior.log_var, estimator, hparams["dataset_size"]
    )
    mi = posterior.log_prob(z) - log_qz
    tc = log_qz - log_prod
    dwkl = log_prod - prior.log_prob(z)
    kl = kl_to_prior(posterior, prior, z)
    loss = (
        recon
        + hparams["mi_weight"] * mi
        + hparams["tc_weight"] * tc
        + hparams["dwkl_weight"] * dwkl
    )
    return LossTerms(
        loss=loss,
        terms={"recon": recon, "kl": kl, "neg_elbo": recon + kl, "mi": mi, "tc": tc, "dwkl": dwkl},
    )


def dip_covariance(posterior, dip_type: str) -> Array:
    """The covariance DIP-VAE regularises, ``[D, D]``: ``Cov[mu]`` (``i``) or ``Cov[mu] +
    mean diag(sigma^2)`` (``ii``), over the batch with the ``1/B`` normalisation."""
    mu = posterior.mean()
    centred = mu - mu.mean(0, keepdims=True)
    cov = centred.T @ centred / mu.shape[0]
    if dip_type == "i":
        return cov
    if dip_type == "ii":
        return cov + jnp.diag(jnp.exp(posterior.log_var).mean(0))
    raise ValueError(f"unknown DIP-VAE type {dip_type!r}; choose one of {DIP_TYPES}")


def dip_terms(cov: Array) -> tuple[Array, Array]:
    """``(sum_{i != j} cov_ij^2, sum_i (cov_ii - 1)^2)``."""
    diag = jnp.diagonal(cov)
    off = (cov**2).sum() - (diag**2).sum()
    return off, ((diag - 1.0) ** 2).sum()


def dip_vae(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    dip_type: str = "i",
) -> LossTerms:
    """Extra term ``dip_lambda_od * off-diagonal + dip_lambda_d * diagonal`` (added to the ELBO
    this is DIP-VAE; Kumar et al. suggest ``lambda_d = 10 lambda_od`` for I and ``lambda_d =
    lambda_od`` for II). Terms: ``dip_offdiag``, ``dip_diag``."""
    del key, step
    posterior = model.encode(encoder_input(batch), model.condition(batch), train=train)
    off, diag = dip_terms(dip_covariance(posterior, dip_type))
    full = lambda v: jnp.full(batch["image"].shape[:1], v)  # noqa: E731
    penalty = hparams["dip_lambda_od"] * off + hparams["dip_lambda_d"] * diag
    return LossTerms(loss=full(penalty), terms={"dip_offdiag": full(off), "dip_diag": full(diag)})


def _with_dataset_size(hparams, *, num_examples: int, pools) -> dict:
    """MWS/MSS weights need ``N``: the number of training examples."""
    del pools
    if not num_examples:
        raise ConfigError("objective.name='beta_tcvae' needs the training set size")
    return {**hparams, "dataset_size": float(num_examples)}


def _check_dip_type(hparams, options, model) -> None:
    del hparams
    if options["dip_type"] == "ii" and model.posterior != "gaussian":
        raise ConfigError("objective.dip_type='ii' needs model.posterior='gaussian'")


OBJECTIVES = {
    "beta_tcvae": ObjectiveSpec(
        fn=beta_tcvae,
        group="beta_tcvae",
        hparams=("mi_weight", "tc_weight", "dwkl_weight"),
        options={"estimator": Option("tc_estimator", TC_ESTIMATORS)},
        needs_density=True,
        corruptible=True,
        derive=_with_dataset_size,
    )
}
EXTRA_TERMS = {
    "dip": ExtraTerm(
        fn=dip_vae,
        weights=("dip_lambda_od", "dip_lambda_d"),
        options={"dip_type": Option("dip_type", DIP_TYPES)},
        check=_check_dip_type,
    )
}
