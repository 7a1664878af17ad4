"""The (weighted) negative evidence lower bound, and its capacity-annealed variant.

The KL weight of :func:`negative_elbo` is ``beta * schedule(step)`` and the KL it weighs is the
free-bits KL, so warm-up (linear or cyclical) and free bits apply to the plain VAE and to every
bound built on it (DIP-VAE, InfoVAE, ...). ``beta = 1``, a constant schedule and
``free_bits = 0`` give the plain ELBO.

References:
  Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, eq. 10 (analytic KL, App. B).
  Higgins et al., "beta-VAE", ICLR 2017, eq. 4 (the beta weight).
  Burgess et al., "Understanding disentangling in beta-VAE", 2018, eq. 8 (``gamma |KL - C|``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aejax.distributions import DiagonalGaussian
from aejax.errors import ConfigError
from aejax.objectives.inputs import encoder_input
from aejax.objectives.kl import free_bits, group_kl, kl_summary
from aejax.objectives.schedules import KL_SCHEDULES, kl_weight, linear_capacity
from aejax.objectives.spec import ObjectiveSpec, Option, require_positive
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def kl_to_prior(posterior, prior, z: Array) -> Array:
    """``KL(q(z|x) || p(z))`` per example ``[B]``: analytic when the pair allows it, else the
    single-sample Monte-Carlo estimate ``log q(z|x) - log p(z)`` at the given sample ``z``."""
    if isinstance(posterior, DiagonalGaussian) and hasattr(prior, "kl_from"):
        return prior.kl_from(posterior).sum(-1)
    return posterior.log_prob(z) - prior.log_prob(z)


def _recon_and_kl(model, batch: Batch, key: PRNGKey, train: bool):
    """One reparameterised sample: ``(-log p(x|z) [B], KL per dimension [B, D or 1])``."""
    x, cond = batch["image"], model.condition(batch)  # cond: one-hot label of a CVAE, else None
    # sample_latent covers flat and hierarchical models alike (KL of every layer, per dimension).
    latent = model.sample_latent(encoder_input(batch), key, cond, train=train)
    recon = -model.decode(latent.z, cond, train=train).log_prob(x)
    return recon, latent.kl_per_dim


def negative_elbo(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    kl_schedule: str = "constant",
    free_bits_groups: int = 0,
) -> LossTerms:
    """``-log p(x|z) + beta * w(step) * KL_fb`` with one reparameterised sample ``z``.

    ``w`` is the KL schedule (:func:`aejax.objectives.schedules.kl_weight`; static
    ``kl_schedule``) and ``KL_fb`` the free-bits KL (:func:`aejax.objectives.kl.free_bits`) over
    ``free_bits_groups`` contiguous groups of latents (0: one per dimension) at
    ``hparams["free_bits"]`` nats per group (default 0: off).

    Terms (nats per example): ``recon``, ``kl`` and ``neg_elbo = recon + kl`` (the unweighted
    bound, what is reported whatever the weights are), ``kl_weight`` (``beta * w``), and the
    per-dimension summary of :func:`aejax.objectives.kl.kl_summary`.
    """
    recon, dims = _recon_and_kl(model, batch, key, train)
    kl = dims.sum(-1)
    weight = hparams.get("beta", jnp.float32(1.0)) * kl_weight(kl_schedule, step, hparams)
    threshold = hparams.get("free_bits", jnp.float32(0.0))
    penalty = free_bits(group_kl(dims, free_bits_groups), threshold)
    terms = {
        "recon": recon,
        "kl": kl,
        "neg_elbo": recon + kl,
        "kl_weight": jnp.full(recon.shape, weight),
        **kl_summary(dims),
    }
    return LossTerms(loss=recon + weight * penalty, terms=terms)


def capacity_vae(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``-log p(x|z) + weight * |KL - C(step)|`` (``weight`` is Burgess et al.'s gamma), ``C``
    rising linearly from 0 to ``capacity_max`` nats over ``capacity_steps`` steps.

    The absolute value applies to the batch-mean KL, as in the paper's expectation: example ``b``
    gets ``weight * sign(mean KL - C) * (KL_b - C)``, whose batch mean is ``weight |mean KL - C|``.
    Terms: ``recon``, ``kl``, ``neg_elbo``, ``capacity`` (nats).
    """
    recon, dims = _recon_and_kl(model, batch, key, train)
    kl = dims.sum(-1)
    c = linear_capacity(step, hparams["capacity_max"], hparams["capacity_steps"])
    sign = jax.lax.stop_gradient(jnp.sign(kl.mean() - c))
    return LossTerms(
        loss=recon + hparams["weight"] * sign * (kl - c),
        terms={
            "recon": recon,
            "kl": kl,
            "neg_elbo": recon + kl,
            "capacity": jnp.full(recon.shape, c),
            **kl_summary(dims),
        },
    )


def _check_kl_schedule(hparams, options, model) -> None:
    """The schedule's own hparams must be > 0; the rising fraction of a cycle at most 1."""
    del model
    needed = {"linear": ("kl_warmup_steps",), "cyclical": ("kl_cycle_steps", "kl_cycle_ratio")}
    require_positive(hparams, *needed.get(options["kl_schedule"], ()), group="elbo")
    if hparams["kl_cycle_ratio"] > 1:
        raise ConfigError(f"elbo.kl_cycle_ratio must be in (0, 1], got {hparams['kl_cycle_ratio']}")


def _check_free_bits_groups(hparams, options, model) -> None:
    del hparams
    groups = options["free_bits_groups"]
    if groups and model.latent_width % groups:
        raise ConfigError(
            f"elbo.free_bits_groups={groups} must divide the latent width "
            f"{model.latent_width} (model.latent_dim plus model.ladder.latent_dims; 0 = one group "
            "per dimension)"
        )


def _check_elbo(hparams, options, model) -> None:
    _check_free_bits_groups(hparams, options, model)
    _check_kl_schedule(hparams, options, model)


OBJECTIVES = {
    "elbo": ObjectiveSpec(
        fn=negative_elbo,
        group="elbo",
        hparams=("beta", "free_bits", "kl_warmup_steps", "kl_cycle_steps", "kl_cycle_ratio"),
        options={
            "kl_schedule": Option("kl_schedule", KL_SCHEDULES),
            "free_bits_groups": Option("free_bits_groups"),
        },
        needs_density=True,
        corruptible=True,
        hierarchical=True,
        check=_check_elbo,
    ),
    "capacity_vae": ObjectiveSpec(
        fn=capacity_vae,
        group="capacity_vae",
        hparams=("weight", "capacity_max", "capacity_steps"),
        positive=("capacity_steps",),
        needs_density=True,
        corruptible=True,
        hierarchical=True,
    ),
}
