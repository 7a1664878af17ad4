"""Runs many train steps per dispatch over a dataset held in device memory.

Data order is a pure function of (seed, step): step ``s`` reads batch ``s % steps_per_epoch`` of
the permutation drawn for epoch ``s // steps_per_epoch`` from ``fold_in(data_key, epoch)``. A
resumed run therefore sees exactly the examples an uninterrupted one would, with no iterator state
in the checkpoint. The last partial batch of an epoch is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aejax.data.base import BINARIZE_MODES
from aejax.train.rng import counter_uniform, subkey
from aejax.train.state import TrainState
from aejax.train.step import StepFn
from aejax.types import Array, Batch, HParams, PRNGKey, Stream

__all__ = ["BINARIZE_MODES"]  # re-exported: the modes gather_batch implements

IMAGE = "image"  # the field that binarisation applies to


class DeviceData(NamedTuple):
    """A split on device.

    Attributes:
      fields: the per-example arrays a batch gathers, ``{name: [N, ...]}``: ``"image"`` float32
        ``[N, H, W, C]`` in [0, 1] and whatever else the dataset provides per example (see
        :meth:`aejax.data.base.ArrayDataset.batch_fields`).
      pools: ``{stream name: int32[P]}``, the example ids of each extra stream's pool (see
        :class:`aejax.types.Stream`); ``{}`` without extra streams.
    """

    fields: Mapping[str, Array]
    pools: Mapping[str, Array] = {}

    @property
    def images(self) -> Array:
        return self.fields[IMAGE]

    @property
    def num_examples(self) -> int:
        return int(self.images.shape[0])


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


def chunk_orders(
    data_key: PRNGKey, step: Array, num_steps: Array, num_examples: int, batch_size: int
) -> Array:
    """``int32[2, num_examples]``: the example order of the epoch holding ``step`` and of the
    next one, which a chunk of ``num_steps`` steps from ``step`` may reach.

    The second order is drawn only when the chunk reaches it (otherwise row 1 repeats row 0): a
    permutation of a large split is two sorts and costs as much as several small steps (see
    docs/performance.md). The train loop computes each epoch's order once and passes both rows
    to the runner (``orders``), so chunks shorter than an epoch do not redraw it.
    """
    steps_per_epoch = num_examples // batch_size
    epoch0 = step // steps_per_epoch
    first = epoch_permutation(data_key, epoch0, num_examples)
    second = jax.lax.cond(
        step % steps_per_epoch + num_steps > steps_per_epoch,
        lambda: epoch_permutation(data_key, epoch0 + 1, num_examples),
        lambda: first,
    )
    return jnp.stack([first, second])


class EpochOrders:
    """Each epoch's example order, drawn once (``epoch_permutation``) and kept while chunks of
    that epoch run: ``get(epoch)`` is ``int32[2, N]``, the orders of ``epoch`` and ``epoch + 1``,
    as the chunk runner's ``orders`` argument takes them. Moving on to the next epoch reuses the
    order already drawn for it."""

    def __init__(self, data_key, num_examples: int):
        self._draw = jax.jit(lambda e: epoch_permutation(data_key, e, num_examples))
        self._epoch: int | None = None
        self._orders: jax.Array | None = None

    def get(self, epoch: int) -> jax.Array:
        if epoch != self._epoch:
            reuse = self._epoch is not None and epoch == self._epoch + 1
            first = self._orders[1] if reuse else self._draw(jnp.int32(epoch))
            self._orders = jnp.stack([first, self._draw(jnp.int32(epoch + 1))])
            self._epoch = epoch
        return self._orders


def make_batch_fn(
    num_examples: int, batch_size: int, binarize: str, data_key: PRNGKey, binarize_key: PRNGKey
) -> Callable[[DeviceData, Array], Batch]:
    """``batch_for_step(data, step) -> {field: [B, ...], "index": [B]}`` (recomputes the
    permutation; for tests and for replaying one step; the chunk runner below shares it across
    steps)."""
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
    """Examples ``idx [B]`` of every field of ``data``, plus ``"index"`` (the ids themselves);
    with ``binarize="dynamic"`` the image drawn for ``(epoch, id)`` (:func:`binarize_dynamic`)."""
    batch = {}
    for name, values in data.fields.items():
        x = values[idx]
        if name == IMAGE and binarize == "dynamic":
            # The barrier materialises the float32 batch once. Without it XLA:CPU keeps the
            # boolean draw and converts it separately for each consumer (the first matmul, the
            # likelihood), single-threaded (cost: docs/performance.md; same bits either way).
            x = jax.lax.optimization_barrier(binarize_dynamic(binarize_key, epoch, idx, x))
        batch[name] = x
    batch["index"] = idx
    return batch


def stream_batch(
    data: DeviceData,
    stream: str,
    step: Array,
    size: int,
    epoch: Array,
    stream_key: PRNGKey,
    binarize: str,
    binarize_key: PRNGKey,
) -> Batch:
    """``size`` examples of the pool ``data.pools[stream]``, drawn without replacement from
    ``fold_in(stream_key, step)``: every field of :func:`gather_batch` as ``"{stream}_{field}"``."""
    pool = data.pools[stream]
    pick = jax.random.choice(
        jax.random.fold_in(stream_key, step), pool.shape[0], (size,), replace=False
    )
    part = gather_batch(data, pool[pick], epoch, binarize, binarize_key)
    return {f"{stream}_{name}": value for name, value in part.items()}


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
    streams: Sequence[Stream] = (),
    record_indices: bool = False,
    unroll: int = 1,
):
    """Returns ``(run, steps_per_call)``; ``run(state, data, train_key, hparams, num_steps)`` runs
    ``num_steps <= steps_per_call`` steps in one dispatch and returns ``(state, metrics)``.

    ``num_steps`` is an array, so every chunk length shares one compiled program. ``orders``, when
    given, is ``int32[2, num_examples]``: the example orders of the epoch holding ``state.step``
    and of the next (:func:`epoch_permutation`); otherwise the chunk draws them
    (:func:`chunk_orders`). ``metrics`` holds
    ``[steps_per_call]`` arrays of each step metric (zeros in slots that did not run) plus
    ``active`` (the slot ran) and ``step`` (the step number of the slot). With
    ``stop_on_nonfinite`` the chunk ends after the first non-finite step; the returned state is
    then whatever that step returned (the last finite one when ``step_fn`` keeps its state on a
    non-finite step, see :func:`aejax.train.step.make_train_step`). Each of ``streams`` adds
    ``stream.batch_size`` examples of ``data.pools[stream.name]`` to every batch, drawn from the
    key ``subkey(data_key, "{name}_batch")`` (see :func:`stream_batch`). With ``record_indices``,
    ``metrics["index"]`` is ``int32[steps_per_call, batch_size]``: the example ids each step
    read.

    ``unroll == 1`` runs the steps in a ``lax.while_loop``. ``unroll > 1`` runs a scan with that
    many steps per loop iteration instead (``lax.scan(unroll=...)``, same results): XLA:CPU runs
    convolutions inside a rolled loop body far slower than in straight-line code (figures:
    docs/performance.md), so conv models unroll the chunk; see :func:`_unrolled_chunk` for what
    that costs a short chunk.
    """
    stream_keys = [subkey(data_key, f"{s.name}_batch") for s in streams]
    steps_per_epoch = num_examples // batch_size
    k = max(1, min(steps_per_call, steps_per_epoch))

    def run(
        state: TrainState,
        data: DeviceData,
        train_key,
        hparams: HParams,
        num_steps: Array,
        orders: Array | None = None,
    ):
        epoch0 = state.step // steps_per_epoch
        # A chunk spans at most two epochs because k <= steps_per_epoch.
        perms = orders
        if perms is None:
            perms = chunk_orders(data_key, state.step, num_steps, num_examples, batch_size)

        def one_step(st: TrainState):
            epoch = st.step // steps_per_epoch
            start = (st.step % steps_per_epoch) * batch_size
            idx = jax.lax.dynamic_slice(perms, (epoch - epoch0, start), (1, batch_size))[0]
            batch = gather_batch(data, idx, epoch, binarize, binarize_key)
            for stream, stream_key in zip(streams, stream_keys, strict=True):
                batch.update(
                    stream_batch(
                        data,
                        stream.name,
                        st.step,
                        stream.batch_size,
                        epoch,
                        stream_key,
                        binarize,
                        binarize_key,
                    )
                )
            st, metrics = step_fn(st, batch, train_key, hparams)
            return st, dict(metrics, index=idx) if record_indices else metrics

        if unroll > 1:
            return _unrolled_chunk(one_step, state, num_steps, k, unroll, stop_on_nonfinite)
        return _while_chunk(one_step, state, num_steps, k, stop_on_nonfinite)

    return jax.jit(run, donate_argnums=(0,)), k


def _while_chunk(one_step, state, num_steps: Array, k: int, stop_on_nonfinite: bool):
    """Runs ``one_step`` while ``i < num_steps`` (and no non-finite step halted the chunk),
    writing step ``i``'s metrics into row ``i`` of ``[k]`` buffers that start at zero.

    A ``while_loop`` runs exactly the active steps; the alternative, a ``k``-step scan that skips
    inactive steps with ``lax.cond``, copies the whole train state through the cond's branches on
    every step (its cost: docs/performance.md).
    """
    metric_shapes = jax.eval_shape(lambda st: one_step(st)[1], state)
    buffers = jax.tree_util.tree_map(lambda s: jnp.zeros((k, *s.shape), s.dtype), metric_shapes)
    step0 = state.step

    def keep_going(carry):
        i, _, halted, _ = carry
        return (i < num_steps) & ~halted

    def body(carry):
        i, st, halted, bufs = carry
        st, metrics = one_step(st)
        bufs = jax.tree_util.tree_map(
            lambda buf, m: jax.lax.dynamic_update_index_in_dim(buf, m, i, 0), bufs, metrics
        )
        if stop_on_nonfinite:
            halted = ~metrics["finite"]
        return i + 1, st, halted, bufs

    ran, state, _, metrics = jax.lax.while_loop(
        keep_going, body, (jnp.int32(0), state, jnp.bool_(False), buffers)
    )
    slots = jnp.arange(k)
    metrics = dict(metrics, active=slots < ran, step=(step0 + slots).astype(step0.dtype))
    return state, metrics


def _unrolled_chunk(one_step, state, num_steps: Array, k: int, unroll: int, stop_on_nonfinite):
    """A ``k``-step scan, ``unroll`` steps per loop iteration, that computes every step and keeps
    the active ones with a select: XLA:CPU runs convolutions inside a ``lax.cond`` branch (or a
    rolled loop body) far slower than in straight-line code (docs/performance.md). Inactive slots
    (a short last chunk) are computed and discarded, so conv configs keep ``log_every`` and
    ``checkpoint_every`` multiples of ``steps_per_call``."""
    step0 = state.step

    def body(carry, i):
        st, halted = carry
        active = (i < num_steps) & ~halted
        new, metrics = one_step(st)
        st = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, st)
        metrics = jax.tree_util.tree_map(lambda m: jnp.where(active, m, jnp.zeros_like(m)), metrics)
        if stop_on_nonfinite:
            halted = halted | (active & ~metrics["finite"])
        return (st, halted), dict(metrics, active=active)

    (state, _), metrics = jax.lax.scan(
        body, (state, jnp.bool_(False)), jnp.arange(k), unroll=min(unroll, k)
    )
    metrics["step"] = (step0 + jnp.arange(k)).astype(step0.dtype)
    return state, metrics
