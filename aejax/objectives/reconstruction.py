"""Plain autoencoder objective: reconstruction loss of the deterministic code.

With a Bernoulli likelihood this is binary cross-entropy; with a fixed-sigma Gaussian it is the
squared error scaled by ``1 / (2 sigma^2)`` plus a constant. The latent width may be under, equal
to, or over the input dimension; the regularisers that stop an overcomplete code from copying
its input (denoising, sparsity, contraction) are added with :mod:`aejax.objectives.regularizers`.
"""

from __future__ import annotations

from aejax.objectives.inputs import encoder_input
from aejax.objectives.spec import ObjectiveSpec
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def reconstruction(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``-log p(x | z = mode q(z|x~))`` per example, ``x~`` the encoder input (the image, or its
    corruption under a denoising wrapper); no sampling."""
    del key, hparams, step
    x, cond = batch["image"], model.condition(batch)
    z = model.encode(encoder_input(batch), cond, train=train).mode()
    recon = -model.decode(z, cond, train=train).log_prob(x)
    return LossTerms(loss=recon, terms={"recon": recon})


OBJECTIVES = {
    "reconstruction": ObjectiveSpec(fn=reconstruction, reconstruction_only=True, corruptible=True)
}
