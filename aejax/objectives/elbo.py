"""The (beta-weighted) negative evidence lower bound.

References:
  Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, eq. 10 (analytic KL, App. B).
  Higgins et al., "beta-VAE", ICLR 2017, eq. 4 (the beta weight).
"""

from __future__ import annotations

import jax.numpy as jnp

from aejax.distributions import DiagonalGaussian
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def kl_to_prior(posterior, prior, z: Array) -> Array:
    """``KL(q(z|x) || p(z))`` per example ``[B]``: analytic when the pair allows it, else the
    single-sample Monte-Carlo estimate ``log q(z|x) - log p(z)`` at the given sample ``z``."""
    if isinstance(posterior, DiagonalGaussian) and hasattr(prior, "kl_from"):
        return prior.kl_from(posterior).sum(-1)
    return posterior.log_prob(z) - prior.log_prob(z)


def negative_elbo(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``-log p(x|z) + beta * KL(q(z|x) || p(z))`` with one reparameterised sample ``z``.

    Terms (nats per example): ``recon``, ``kl`` and ``neg_elbo = recon + kl`` (the unweighted
    bound, what is reported whatever beta is). ``hparams["beta"]`` defaults to 1.
    """
    del step
    x, cond = batch["image"], model.condition(batch)  # cond: one-hot label of a CVAE, else None
    # sample_latent covers flat and hierarchical models alike (KL summed over every layer).
    latent = model.sample_latent(x, key, cond, train=train)
    recon = -model.decode(latent.z, cond, train=train).log_prob(x)
    kl = latent.kl_per_dim.sum(-1)
    beta = hparams.get("beta", jnp.float32(1.0))
    return LossTerms(
        loss=recon + beta * kl, terms={"recon": recon, "kl": kl, "neg_elbo": recon + kl}
    )
