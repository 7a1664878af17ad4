"""Schedules of objective weights as pure functions of the step: KL warm-up and capacity.

Every function maps the integer step array (and float32 hparam arrays) to a float32 scalar, so
it runs inside the jitted step and an ablation can ``vmap`` over its numbers.

References:
  Bowman et al., "Generating Sentences from a Continuous Space", CoNLL 2016 (linear KL warm-up).
  Fu et al., "Cyclical Annealing Schedule", NAACL 2019, eq. 6 (cyclical, ``f(tau) = tau / R``).
  Burgess et al., "Understanding disentangling in beta-VAE", 2018, eq. 8 (capacity ``C``).
"""

from __future__ import annotations

import jax.numpy as jnp

from aejax.types import Array, HParams

KL_SCHEDULES = ("constant", "linear", "cyclical")


def linear_warmup(step: Array, warmup_steps: Array) -> Array:
    """``min(1, step / warmup_steps)``: 0 at step 0, 1 from ``warmup_steps`` on."""
    return jnp.clip(jnp.asarray(step, jnp.float32) / warmup_steps, 0.0, 1.0)


def cyclical(step: Array, cycle_steps: Array, ratio: Array) -> Array:
    """Fu et al.'s cyclical weight: ``tau = (step mod cycle_steps) / cycle_steps``, then
    ``min(1, tau / ratio)``; it rises linearly over the first ``ratio`` of each cycle, then
    holds 1. (Their ``t`` counts from 1, so their ``t - 1`` is our 0-based step.)"""
    tau = jnp.mod(jnp.asarray(step, jnp.float32), cycle_steps) / cycle_steps
    return jnp.minimum(1.0, tau / ratio)


def linear_capacity(step: Array, capacity_max: Array, capacity_steps: Array) -> Array:
    """``C(step) = capacity_max * min(1, step / capacity_steps)`` in nats."""
    return capacity_max * linear_warmup(step, capacity_steps)


def kl_weight(kind: str, step: Array, hparams: HParams) -> Array:
    """The multiplier of the KL term at ``step`` for schedule ``kind`` (a static choice).

    Reads ``kl_warmup_steps`` (linear) or ``kl_cycle_steps`` and ``kl_cycle_ratio`` (cyclical).
    """
    if kind == "constant":
        return jnp.float32(1.0)
    if kind == "linear":
        return linear_warmup(step, hparams["kl_warmup_steps"])
    if kind == "cyclical":
        return cyclical(step, hparams["kl_cycle_steps"], hparams["kl_cycle_ratio"])
    raise ValueError(f"unknown KL schedule {kind!r}; choose one of {', '.join(KL_SCHEDULES)}")
