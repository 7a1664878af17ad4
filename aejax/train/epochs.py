"""Runs many train steps per dispatch over a dataset held in device memory.

Data order is a pure function of (seed, step): step ``s`` reads batch ``s % steps_per_epoch`` of
the permutation drawn for epoch ``s // steps_per_epoch`` from ``fold_in(data_key, epoch)``. A
resumed run therefore sees exactly the examples an uninterrupted one would, with no iterator state
in the checkpoint. The last partial batch of an epoch is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aejax.train.rng import counter_uniform, subkey
from aejax.train.state import TrainState
from aejax.train.step import StepFn
from aejax.types import Array, Batch, HParams, PRNGKey

BINARIZE_MODES = ("none", "static", "dynamic")


class DeviceData(NamedTuple):
    """A split on device: images float32 ``[N, H, W, C]`` in [0, 1], labels int32 ``[N]``, and
    for semi-supervised training the indices ``int32[L]`` of the examples whose labels may be
    used (the labelled pool); ``None`` otherwise."""

    images: Array
    labels: Array
    labelled: Array | None = None


def binarize_dynamic(key: PRNGKey, epoch: Array, example_ids: Array, x: Array) -> Array:
    """Bernoulli draw per pixel with the intensity as probability, keyed by (epoch, example id).

    ``x: [B, H, W, C]`` in [0, 1]; returns float32 {0, 1} of the same shape. The same example in
    the same epoch always gets the same bits, however it was batched. The uniforms come from
    :func:`aejax.train.rng.counter_uniform` (a counter hash, not threefry: see there why).
    """
    u = counter_uniform(jax.random.fold_in(key, epoch), example_ids, math.prod(x.shape[1:]))
    return (u.reshape(x.shape) < x).astype(jnp.float32)


def epoch_permutation(data_key: PRNGKey, epoch: Array, num_examples: int) -> Array:
    """The order of examples in ``epoch``: ``int32[num_examples]``."""
    return jax.random.permutation(jax.random.fold_in(data_key, epoch), num_examples)


def make_batch_fn(
    num_examples: int, batch_size: int, binarize: str, data_key: PRNGKey, binarize_key: PRNGKey
) -> Callable[[DeviceData, Array], Batch]:
    """``batch_for_step(data, step) -> {"image", "label", "index"}`` (recomputes the permutation;
    for tests and for replaying one step; the chunk runner below shares it across steps)."""
    steps_per_epoch = num_examples // batch_size

    def batch_for_step(data: DeviceData, step: Array) -> Batch:
        epoch = step // steps_per_epoch
        perm = epoch_permutation(data_key, epoch, num_examples)
        idx = jax.lax.dynamic_slice(perm, ((step % steps_per_epoch) * batch_size,), (batch_size,))
        return gather_batch(data, idx, epoch, binarize, binarize_key)

    return batch_for_step


def gather_batch(
    data: DeviceData, idx: Array, epoch: Array, binarize: str, binarize_key: PRNGKey
) -> Batch:
    x = data.images[idx]
    if binarize == "dynamic":
        x = binarize_dynamic(binarize_key, epoch, idx, x)
    return {"image": x, "label": data.labels[idx], "index": idx}


def labelled_batch(
    data: DeviceData,
    step: Array,
    size: int,
    epoch: Array,
    labelled_key: PRNGKey,
    binarize: str,
    binarize_key: PRNGKey,
) -> Batch:
    """``size`` examples of the labelled pool, drawn without replacement from
    ``fold_in(labelled_key, step)``: ``{"labelled_image", "labelled_label"}``."""
    pick = jax.random.choice(
        jax.random.fold_in(labelled_key, step), data.labelled.shape[0], (size,), replace=False
    )
    part = gather_batch(data, data.labelled[pick], epoch, binarize, binarize_key)
    return {"labelled_image": part["image"], "labelled_label": part["label"]}


def make_chunk_runner(
    step_fn: StepFn,
    *,
    num_examples: int,
    batch_size: int,
    steps_per_call: int,
    binarize: str,
    data_key: PRNGKey,
    binarize_key: PRNGKey,
    stop_on_nonfinite: bool = True,
    labelled_batch_size: int = 0,
    record_indices: bool = False,
    unroll: int = 1,
):
    """Returns ``(run, steps_per_call)``; ``run(state, data, train_key, hparams, num_steps)`` runs
    ``num_steps <= steps_per_call`` steps in one ``lax.scan`` and returns ``(state, metrics)``.

    ``num_steps`` is an array, so every chunk length shares one compiled program. ``metrics`` holds
    ``[steps_per_call]`` arrays of each step metric plus ``active`` (the step ran) and ``step``.
    With ``stop_on_nonfinite`` the remaining steps of the chunk are skipped after the first
    non-finite step, so the returned state is the last finite one. With
    ``labelled_batch_size > 0`` each batch also carries that many examples of ``data.labelled``
    (see :func:`labelled_batch`). With ``record_indices``, ``metrics["index"]`` is
    ``int32[steps_per_call, batch_size]``: the example ids each step read. ``unroll`` steps are
    unrolled per iteration of the scan's loop (``lax.scan(unroll=...)``, same results): XLA:CPU
    runs convolutions inside a rolled loop body about 10x slower than in straight-line code
    (measured on the conv VAE step, 88 vs 1032 examples/s), so conv models unroll the chunk.
    An unrolled chunk also replaces the ``lax.cond`` that skips inactive steps by a select, for
    the same reason; a chunk shorter than ``steps_per_call`` then computes (and discards) its
    inactive steps, so conv configs keep ``log_every`` and ``checkpoint_every`` multiples of it.
    """
    labelled_key = subkey(data_key, "labelled_batch")
    steps_per_epoch = num_examples // batch_size
    k = max(1, min(steps_per_call, steps_per_epoch))

    def run(state: TrainState, data: DeviceData, train_key, hparams: HParams, num_steps: Array):
        epoch0 = state.step // steps_per_epoch
        # A chunk spans at most two epochs because k <= steps_per_epoch.
        perms = jnp.stack([epoch_permutation(data_key, epoch0 + j, num_examples) for j in range(2)])

        def one_step(st: TrainState):
            epoch = st.step // steps_per_epoch
            start = (st.step % steps_per_epoch) * batch_size
            idx = jax.lax.dynamic_slice(perms, (epoch - epoch0, start), (1, batch_size))[0]
            batch = gather_batch(data, idx, epoch, binarize, binarize_key)
            if labelled_batch_size:
                batch.update(
                    labelled_batch(
                        data,
                        st.step,
                        labelled_batch_size,
                        epoch,
                        labelled_key,
                        binarize,
                        binarize_key,
                    )
                )
            st, metrics = step_fn(st, batch, train_key, hparams)
            return st, dict(metrics, index=idx) if record_indices else metrics

        metric_shapes = jax.eval_shape(lambda st: one_step(st)[1], state)

        def skip(st: TrainState):
            return st, jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), metric_shapes)

        def body(carry, i):
            st, halted = carry
            active = (i < num_steps) & ~halted
            step_before = st.step
            if unroll > 1:
                # Compute the step and keep its result only when active: XLA:CPU also runs
                # convolutions inside lax.cond branches ~10x slower (ConvLSTM step: 0.27 s plain,
                # 2.7 s in a cond). Costs a wasted step per inactive slot (a short last chunk).
                new, metrics = one_step(st)
                st = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, st)
                metrics = jax.tree_util.tree_map(
                    lambda m: jnp.where(active, m, jnp.zeros_like(m)), metrics
                )
            else:
                st, metrics = jax.lax.cond(active, one_step, skip, st)
            if stop_on_nonfinite:
                halted = halted | (active & ~metrics["finite"])
            metrics = dict(metrics, active=active, step=step_before)
            return (st, halted), metrics

        (state, _), metrics = jax.lax.scan(
            body, (state, jnp.bool_(False)), jnp.arange(k), unroll=min(unroll, k)
        )
        return state, metrics

    return jax.jit(run, donate_argnums=(0,)), k
