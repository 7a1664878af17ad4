"""Objectives: pure functions ``(model, batch, key, hparams, *, step, train) -> LossTerms``.

They run inside ``model.apply(..., method=objective)``, so ``model`` is a bound
:class:`~aejax.models.AutoEncoder` whose ``encode``/``decode``/``prior_dist`` they call. They
return per-example ``[B]`` terms; the train step reduces them. Weights that ablations vary
(``beta``) come from ``hparams`` as arrays so one compiled step serves every value; structural
choices (IWAE's ``num_samples``, a kernel, a schedule's kind) are keyword options fixed with
:func:`~aejax.objectives.compose.bind`. A bound composes with extra weighted terms
(:func:`~aejax.objectives.compose.combine`) and with input corruption
(:func:`~aejax.objectives.compose.with_corruption`).
"""

from aejax.objectives.adversarial import adversarial_prior_matching, factor_vae
from aejax.objectives.compose import bind, combine, with_corruption
from aejax.objectives.decomposed import beta_tcvae, dip_vae
from aejax.objectives.elbo import capacity_vae, kl_to_prior, negative_elbo
from aejax.objectives.iwae import iwae
from aejax.objectives.reconstruction import reconstruction
from aejax.objectives.regularizers import contractive, l1_code, sparsity_kl
from aejax.objectives.semi_supervised import m2
from aejax.objectives.wae import mmd_penalty, wae_mmd

__all__ = [
    "adversarial_prior_matching",
    "beta_tcvae",
    "bind",
    "capacity_vae",
    "combine",
    "contractive",
    "dip_vae",
    "factor_vae",
    "iwae",
    "kl_to_prior",
    "l1_code",
    "m2",
    "mmd_penalty",
    "negative_elbo",
    "reconstruction",
    "sparsity_kl",
    "wae_mmd",
    "with_corruption",
]
