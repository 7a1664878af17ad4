"""What each prior, likelihood head and posterior head declares about itself, for aejax.build.

:data:`aejax.models.priors.PRIORS`, :data:`aejax.models.heads.LIKELIHOODS` and
:data:`aejax.models.heads.POSTERIORS` map a config name (``model.prior``, ``model.likelihood``,
``model.posterior``) to a :class:`PartSpec`; the build layer reads the options it names from
``config.model`` and calls ``make``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from aejax.types import Option

__all__ = ["Option", "PartSpec"]


@dataclasses.dataclass(frozen=True)
class PartSpec:
    """A model part and its facts.

    Attributes:
      make: builds the module: ``make(**context, **options)``, with the context its family
        documents (priors: ``latent_dim``, ``image_shape``; posterior heads: ``latent_dim``;
        likelihood heads: none).
      options: keyword argument of ``make`` -> the :class:`~aejax.types.Option` under
        ``config.model`` it is read from.
      check: ``check(posterior=..., num_classes=...)`` raises
        :class:`~aejax.errors.ConfigError` when the part does not fit the rest of the model.
      features: encoder features per latent dimension the part reads (posterior heads).
    """

    make: Callable
    options: Mapping[str, Option] = dataclasses.field(default_factory=dict)
    check: Callable | None = None
    features: int = 1
