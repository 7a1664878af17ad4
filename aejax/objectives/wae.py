"""Matching the aggregate posterior to the prior with MMD: WAE-MMD and the InfoVAE term.

References:
  Tolstikhin et al., "Wasserstein Auto-Encoders", ICLR 2018, Algorithm 2 (WAE-MMD).
  Zhao, Song & Ermon, "InfoVAE", AAAI 2019, eq. 6 (ELBO weighted plus an MMD divergence).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aejax.objectives.inputs import encoder_input
from aejax.objectives.kernels import KERNELS, mmd_unbiased
from aejax.objectives.spec import ExtraTerm, ObjectiveSpec, Option
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def mmd_to_prior(model, batch: Batch, key: PRNGKey, train: bool, kernel: str, scale: Array):
    """``(z [B, D], MMD^2(q(z), p(z)))``: one code sample per example against ``B`` prior draws."""
    z_key, prior_key = jax.random.split(key)
    posterior = model.encode(encoder_input(batch), model.condition(batch), train=train)
    z = posterior.sample(z_key)
    z_prior = model.prior_dist().sample(prior_key, (z.shape[0],))
    return z, mmd_unbiased(z, z_prior, kernel, scale)


def wae_mmd(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    kernel: str = "imq",
) -> LossTerms:
    """``-log p(x|z) + lam * MMD^2(q(z), p(z))`` with ``z ~ q(z|x)`` (the code, for a Delta
    posterior). The MMD is a batch statistic, repeated per example. Terms: ``recon``, ``mmd``.

    With a fixed-sigma Gaussian likelihood ``-log p(x|z)`` is the squared-error cost
    ``c(x, y) = ||x - y||^2`` up to scale and a constant.
    """
    del step
    z, mmd = mmd_to_prior(model, batch, key, train, kernel, hparams["mmd_scale"])
    recon = -model.decode(z, model.condition(batch), train=train).log_prob(batch["image"])
    mmd = jnp.full(recon.shape, mmd)
    return LossTerms(loss=recon + hparams["weight"] * mmd, terms={"recon": recon, "mmd": mmd})


def mmd_penalty(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    kernel: str = "imq",
) -> LossTerms:
    """Extra term ``mmd_weight * MMD^2(q(z), p(z))`` (InfoVAE when added to the ELBO: set
    ``beta = 1 - alpha`` and ``mmd_weight = alpha + lambda - 1``). Term: ``mmd``."""
    del step
    _, mmd = mmd_to_prior(model, batch, key, train, kernel, hparams["mmd_scale"])
    mmd = jnp.full(batch["image"].shape[:1], mmd)
    return LossTerms(loss=hparams["mmd_weight"] * mmd, terms={"mmd": mmd})


_KERNEL = {"kernel": Option("mmd_kernel", KERNELS)}
OBJECTIVES = {
    "wae_mmd": ObjectiveSpec(
        fn=wae_mmd,
        group="wae_mmd",
        # The kernel is shared with the InfoVAE term, so it stays in config.objective.
        hparams=("weight", "objective.mmd_scale"),
        options={"kernel": Option("objective.mmd_kernel", KERNELS)},
        positive=("mmd_scale",),
        corruptible=True,
    )
}
EXTRA_TERMS = {
    "mmd": ExtraTerm(
        fn=mmd_penalty,
        weights=("mmd_weight",),
        hparams=("mmd_scale",),
        options=_KERNEL,
        positive=("mmd_scale",),
    )
}
