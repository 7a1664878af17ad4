"""Objectives: pure functions ``(model, batch, key, hparams, *, step, train) -> LossTerms``.

They run inside ``model.apply(..., method=objective)``, so ``model`` is a bound
:class:`~aejax.models.AutoEncoder` whose ``encode``/``decode``/``prior_dist`` they call. They
return per-example ``[B]`` terms; the train step reduces them. Weights that ablations vary
(``beta``) come from ``hparams`` as arrays so one compiled step serves every value; structural
choices (IWAE's ``num_samples``, a kernel, a schedule's kind) are keyword options fixed with
:func:`~aejax.objectives.compose.bind`. A bound composes with extra weighted terms
(:func:`~aejax.objectives.compose.combine`) and with input corruption
(:func:`~aejax.objectives.compose.with_corruption`).

Each module declares its objectives' facts next to them (:mod:`aejax.objectives.spec`);
:data:`OBJECTIVES` and :data:`EXTRA_TERMS` collect them for :mod:`aejax.build`.
"""

from aejax.objectives.adversarial import OBJECTIVES as _adversarial_specs
from aejax.objectives.adversarial import adversarial_prior_matching, factor_vae
from aejax.objectives.compose import bind, combine, with_corruption
from aejax.objectives.decomposed import EXTRA_TERMS as _decomposed_terms
from aejax.objectives.decomposed import OBJECTIVES as _decomposed_specs
from aejax.objectives.decomposed import beta_tcvae, dip_vae
from aejax.objectives.elbo import OBJECTIVES as _elbo_specs
from aejax.objectives.elbo import capacity_vae, kl_to_prior, negative_elbo
from aejax.objectives.iwae import OBJECTIVES as _iwae_specs
from aejax.objectives.iwae import iwae
from aejax.objectives.reconstruction import OBJECTIVES as _reconstruction_specs
from aejax.objectives.reconstruction import reconstruction
from aejax.objectives.regularizers import EXTRA_TERMS as _regularizer_terms
from aejax.objectives.regularizers import contractive, l1_code, sparsity_kl
from aejax.objectives.semi_supervised import OBJECTIVES as _semi_supervised_specs
from aejax.objectives.semi_supervised import m2
from aejax.objectives.wae import EXTRA_TERMS as _wae_terms
from aejax.objectives.wae import OBJECTIVES as _wae_specs
from aejax.objectives.wae import mmd_penalty, wae_mmd

# config name (objective.name) -> spec, from the modules that define them.
OBJECTIVES = {
    **_elbo_specs,
    **_reconstruction_specs,
    **_iwae_specs,
    **_decomposed_specs,
    **_wae_specs,
    **_adversarial_specs,
    **_semi_supervised_specs,
}
# Extra terms in the order their losses are added to the bound (the order is part of the result:
# float addition is not associative).
EXTRA_TERMS = {**_wae_terms, **_decomposed_terms, **_regularizer_terms}

__all__ = [
    "EXTRA_TERMS",
    "OBJECTIVES",
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
