"""Objectives: pure functions ``(model, batch, key, hparams, *, step, train) -> LossTerms``.

They run inside ``model.apply(..., method=objective)``, so ``model`` is a bound
:class:`~aejax.models.AutoEncoder` whose ``encode``/``decode``/``prior_dist`` they call. They
return per-example ``[B]`` terms; the train step reduces them. Weights that ablations vary
(``beta``) come from ``hparams`` as arrays so one compiled step serves every value.
"""

from aejax.objectives.adversarial import adversarial_prior_matching, factor_vae
from aejax.objectives.elbo import kl_to_prior, negative_elbo
from aejax.objectives.reconstruction import reconstruction
from aejax.objectives.semi_supervised import m2

__all__ = [
    "adversarial_prior_matching",
    "factor_vae",
    "kl_to_prior",
    "m2",
    "negative_elbo",
    "reconstruction",
]
