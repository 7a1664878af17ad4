"""Shared type aliases and the small structs that cross module boundaries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax

Array = jax.Array
PRNGKey = jax.Array  # a typed key from ``jax.random.key``
Batch = Mapping[str, Array]  # {"image": [B, H, W, C], optionally "label": [B], ...}
HParams = Mapping[str, Array]  # scalar arrays that ablations vary: beta, learning_rate, ...
PyTree = Any


class LossTerms(NamedTuple):
    """What an objective returns: per-example values, never reduced.

    Attributes:
      loss: ``[B]`` the quantity whose batch mean the main player minimises (every parameter
        that no extra player owns).
      terms: named ``[B]`` diagnostics (``recon``, ``kl``, ``neg_elbo``, ...) in nats per example.
      aux_loss: the extra players' losses (see :class:`Player`): ``[B]`` when the objective
        declares one extra player, ``{player name: [B]}`` when it declares several; each is
        minimised over that player's parameters only. ``None`` when there is no extra player.
    """

    loss: Array
    terms: Mapping[str, Array]
    aux_loss: Array | Mapping[str, Array] | None = None


class Option(NamedTuple):
    """A static setting a module declares next to its code: the config key it is read from and
    how :mod:`aejax.build` checks it (changing one changes the program, so it recompiles).

    Attributes:
      key: the config key, relative to the group of the family that declares it
        (``config.objective`` for objectives and extra terms, ``config.model`` for priors and
        likelihoods).
      choices: the valid strings; empty for a number.
      minimum: the least valid value of an ``"int"``.
      kind: ``"int"`` (an integer >= ``minimum``), ``"number"`` (a number > 0) or ``"widths"``
        (integers > 0, e.g. hidden layer widths); ignored when there are ``choices``.
    """

    key: str
    choices: tuple[str, ...] = ()
    minimum: int = 0
    kind: str = "int"


class Player(NamedTuple):
    """A player besides the main model, as an objective declares it (e.g. a critic on codes).

    The train step differentiates the player's own loss (``LossTerms.aux_loss``) with respect to
    its parameter subtree only and updates that subtree with its own optimizer and learning rate;
    everything else is the main player's.

    Attributes:
      name: the ``params`` subtree it owns (the model's submodule of that name).
      optimizer: the config group of its optimizer, e.g. ``"optimizer.critic"``.
      lr_key: the ``hparams`` key of its learning rate (an array, so ``vmap`` can batch it).
    """

    name: str
    optimizer: str
    lr_key: str


class Stream(NamedTuple):
    """An extra batch stream: every step draws ``batch_size`` examples of a fixed pool of the
    training split (without replacement within the step) and adds them to the batch under
    ``"{name}_{field}"`` (``"{name}_image"``, ...).

    Attributes:
      name: prefix of its batch keys and of its key streams (``"{name}_pool"`` chooses the pool,
        ``"{name}_batch"`` draws each step's examples from it).
      batch_size: examples per step.
      select: ``select(dataset, key) -> int32[P]``: the example ids of the pool, from a host
        dataset (:class:`aejax.data.base.ArrayDataset`) and a key.
    """

    name: str
    batch_size: int
    select: Callable[[Any, PRNGKey], Any]
