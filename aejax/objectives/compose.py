"""Composition of objectives: a bound plus weighted extra terms, and input corruption.

An extra term is itself an objective whose ``loss`` is already weighted by its own hparam
(``l1_weight``, ``mmd_weight``, ...), so composing is adding losses and merging named terms.
Each extra draws from its own stream of the step's key; the bound keeps the key itself, so a
bound alone draws exactly what it would draw uncomposed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aejax.objectives.inputs import ENCODER_INPUT, stream
from aejax.objectives.regularizers import corrupt
from aejax.types import Array, HParams, LossTerms


def combine(bound: Callable, extras: Sequence[Callable]) -> Callable:
    """``bound + sum(extras)``: losses add, terms merge (names must not collide)."""
    if not extras:
        return bound

    def objective(model, batch, key, hparams: HParams, *, step: Array, train: bool):
        out = bound(model, batch, key, hparams, step=step, train=train)
        loss, terms = out.loss, dict(out.terms)
        for extra in extras:
            name = extra.__name__
            more = extra(model, batch, stream(key, name), hparams, step=step, train=train)
            loss = loss + more.loss
            clash = set(terms) & set(more.terms)
            if clash:
                raise ValueError(f"extra term {name!r} repeats the terms {sorted(clash)}")
            terms.update(more.terms)
        return LossTerms(loss=loss, terms=terms, aux_loss=out.aux_loss)

    _inherit(objective, bound)
    return objective


def with_corruption(objective: Callable, kind: str) -> Callable:
    """Denoising: the encoder sees ``corrupt(kind, x)`` drawn from the step's key, every
    reconstruction term still scores the clean image (Vincent et al. 2008)."""
    if kind == "none":
        return objective

    def denoising(model, batch, key, hparams: HParams, *, step: Array, train: bool):
        noisy = corrupt(kind, stream(key, "corruption"), batch["image"], hparams)
        batch = {**batch, ENCODER_INPUT: noisy}
        return objective(model, batch, key, hparams, step=step, train=train)

    _inherit(denoising, objective)
    return denoising


def bind(fn: Callable, **options) -> Callable:
    """``fn`` with static keyword options fixed (``num_samples=5``); keeps its name and
    attributes, which ``functools.partial`` would drop."""
    if not options:
        return fn

    def bound(model, batch, key, hparams: HParams, *, step: Array, train: bool):
        return fn(model, batch, key, hparams, step=step, train=train, **options)

    _inherit(bound, fn)
    return bound


def _inherit(new: Callable, old: Callable) -> None:
    new.__name__ = getattr(old, "__name__", "objective")
    new.__doc__ = old.__doc__
