"""What each objective and extra term declares about itself, next to its code.

Every objective module exports ``OBJECTIVES = {config name: ObjectiveSpec}`` (extra-term modules
``EXTRA_TERMS = {name: ExtraTerm}``); :mod:`aejax.objectives` collects them and
:mod:`aejax.build` looks them up by ``objective.name``. A spec names the config group of the
method's own settings (``config.<group>``, e.g. ``config.factor_vae``; a dotted key such as
``objective.mmd_scale`` is read where it says), what the model must provide
for it, and what the trainer must feed it beyond the main batch; the trainer never names a
method (see :class:`aejax.types.Player` and :class:`aejax.types.Stream`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import NamedTuple

from aejax.errors import ConfigError
from aejax.types import Option, Player

__all__ = ["ExtraTerm", "ModelFacts", "ObjectiveSpec", "Option", "StreamSpec"]


class ModelFacts(NamedTuple):
    """What an objective's ``check`` may ask about the model it trains."""

    posterior: str  # "gaussian" | "delta"
    latent_width: int  # latent dimensions over every stochastic layer
    # The encoder normalises with the batch's statistics in training (model.encoder.norm='batch'),
    # so one example's code depends on the other examples of its batch.
    batch_coupled_encoder: bool = False


@dataclasses.dataclass(frozen=True)
class StreamSpec:
    """An extra batch stream as an objective declares it; build sizes it from the config.

    Attributes:
      name: the stream's name (its batch keys are ``"{name}_{field}"``).
      batch_size_key: config key of the examples drawn per step.
      pool_size_key: config key of the examples in the pool; 0 is refused.
      select: ``select(dataset, key, size, **context) -> int32[size]``: the pool's example ids.
      context: further config keys ``select`` reads, passed by their last component.
    """

    name: str
    batch_size_key: str
    pool_size_key: str
    select: Callable
    context: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, eq=False)
class ObjectiveSpec:
    """An objective and its facts.

    Attributes:
      fn: ``fn(model, batch, key, hparams, *, step, train, **options) -> LossTerms``.
      group: the config group of the method's own settings; a run's config keeps that group
        only when the run uses this objective.
      hparams: ``config.<group>`` keys (or dotted keys from the config root, passed by their
        last component) passed as float hparams (arrays: a new value never
        recompiles), each ``>= 0``.
      options: keyword argument of ``fn`` -> its :class:`Option`.
      positive: hparams that must be ``> 0``.
      fractions: hparams that must lie in (0, 1).
      needs_density: its KL needs a density of q(z|x) (no Delta posterior).
      reconstruction_only: it trains a deterministic autoencoder, so its runs are evaluated
        on reconstructions alone (no ELBO or IWAE bound, whatever the posterior).
      corruptible: it reads the encoder input, so a denoising corruption reaches it.
      hierarchical: it accepts a hierarchical (ladder) model.
      networks: extra networks the model must hold (``"critic"``, ``"classifier"``).
      players: extra players, each trained by its own loss and optimizer.
      streams: extra batch streams.
      derive: ``derive(hparams, num_examples=N, pools={stream: size}) -> hparams``: the hparams
        that follow from the data (a data set size, a default weight).
      check: ``check(hparams, options, model: ModelFacts)``: raises
        :class:`~aejax.errors.ConfigError` for values that are valid alone but not together.
    """

    fn: Callable
    group: str = "objective"
    hparams: tuple[str, ...] = ()
    options: Mapping[str, Option] = dataclasses.field(default_factory=dict)
    positive: tuple[str, ...] = ()
    fractions: tuple[str, ...] = ()
    needs_density: bool = False
    reconstruction_only: bool = False
    corruptible: bool = False
    hierarchical: bool = False
    networks: tuple[str, ...] = ()
    players: tuple[Player, ...] = ()
    streams: tuple[StreamSpec, ...] = ()
    derive: Callable | None = None
    check: Callable | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class ExtraTerm:
    """A weighted term that composes with any bound; compiled in when a weight is > 0.

    Attributes:
      fn: an objective whose ``loss`` is already weighted by its own hparams.
      weights: its weight keys (``config.objective``); any > 0 switches it on.
      hparams: further hparams it reads.
      options, positive, fractions, check: as for :class:`ObjectiveSpec`.
    """

    fn: Callable
    weights: tuple[str, ...]
    hparams: tuple[str, ...] = ()
    options: Mapping[str, Option] = dataclasses.field(default_factory=dict)
    positive: tuple[str, ...] = ()
    fractions: tuple[str, ...] = ()
    check: Callable | None = None


def require_positive(hparams: Mapping[str, float], *keys: str, group: str = "objective") -> None:
    """Raises naming ``<group>.<key>`` when a value is not > 0."""
    for key in keys:
        if not hparams[key] > 0:
            raise ConfigError(f"{group}.{key} must be > 0, got {hparams[key]!r}")


def require_fraction(hparams: Mapping[str, float], key: str, group: str = "objective") -> None:
    """Raises naming ``<group>.<key>`` when a value is not in (0, 1)."""
    if not 0 < hparams[key] < 1:
        raise ConfigError(f"{group}.{key} must be in (0, 1), got {hparams[key]!r}")
