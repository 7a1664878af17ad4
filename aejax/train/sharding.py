"""Data parallelism over ``jax.devices()`` with one ``Mesh`` axis, ``"data"``.

The train step is unchanged: :func:`shard_batch` wraps it so every batch leaf is constrained to
be split along its leading (example) axis over the mesh, while the train state is replicated
(or, with :func:`state_shardings` ``shard_params=True``, each large parameter and its optimizer
moments split along their first divisible axis: ZeRO/FSDP-style, for models too large to
replicate). XLA's SPMD partitioner then inserts the gradient all-reduce. Because the global batch
and every key are the same as on one device, the loss curve equals the one-device curve up to
the float rounding of a different reduction order.

The device-resident training set is split too (:func:`shard_examples`): each device holds
``ceil(N / num_devices)`` examples, and the step's gather of a batch by example ids becomes an
SPMD gather over a sharded operand (XLA inserts the collective: in the compiled CPU step each
device gathers the ids it holds and one all-reduce of the batch combines them; the dataset never
moves). The ids, and so the batches, are the same as on one device.

Multi-process (``jax.distributed.initialize``): the mesh spans every process's devices; every
process computes the same global batch indices and contributes its devices' shard of the batch;
each process puts on its devices only the rows of the dataset that live there (about
``N / num_processes`` examples), so device memory per process shrinks with the process count.
"""

from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from aejax.errors import ConfigError
from aejax.train.epochs import DeviceData
from aejax.train.step import StepFn

AXIS = "data"
# With shard_params, leaves smaller than this stay replicated (splitting them saves little memory
# and costs a collective each).
SHARD_MIN_SIZE = 2**18


def make_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: every device of every process)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (AXIS,))


def mesh_for(settings) -> Mesh | None:
    """The data-parallel mesh for :class:`aejax.build.TrainSettings`, or ``None`` on one device
    or with ``train.data_parallel=False`` (then nothing about the run changes)."""
    if not settings.data_parallel or jax.device_count() == 1:
        return None
    mesh = make_mesh()
    check_batch(settings.batch_size, mesh)
    return mesh


def check_batch(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size % n:
        raise ConfigError(
            f"train.batch_size={batch_size} is not divisible by the {n} devices of the mesh; "
            f"use a multiple of {n}"
        )


def shard_batch(step_fn: StepFn, mesh: Mesh) -> StepFn:
    """``step_fn`` with each batch leaf split over the mesh along its leading axis."""
    batch_sharding = NamedSharding(mesh, P(AXIS))

    def step(state, batch, key, hparams):
        batch = jax.lax.with_sharding_constraint(
            batch, jax.tree_util.tree_map(lambda _: batch_sharding, batch)
        )
        return step_fn(state, batch, key, hparams)

    return step


def state_shardings(state, mesh: Mesh, *, shard_params: bool = False, min_size: int | None = None):
    """A pytree of :class:`NamedSharding` for ``state``: replicated, or with ``shard_params``
    every leaf of at least ``min_size`` (default :data:`SHARD_MIN_SIZE`) elements split along
    its first axis divisible by the mesh size (its Adam moments, same shape, too)."""
    n = mesh.devices.size
    min_size = SHARD_MIN_SIZE if min_size is None else min_size

    def spec(x):
        shape = np.shape(x)
        if shard_params and math.prod(shape) >= min_size:
            for axis, size in enumerate(shape):
                if size % n == 0:
                    return NamedSharding(mesh, P(*([None] * axis), AXIS))
        return NamedSharding(mesh, P())

    return jax.tree_util.tree_map(spec, state)


def place(tree, shardings):
    """``tree`` on the mesh with ``shardings``; works across processes when every process
    holds the same host values (each puts only its addressable shards)."""

    def put(x, s):
        x = np.asarray(jax.device_get(x)) if jax.process_count() > 1 else x
        if jax.process_count() > 1:
            return jax.make_array_from_callback(np.shape(x), s, lambda idx: x[idx])
        return jax.device_put(x, s)

    return jax.tree_util.tree_map(put, tree, shardings)


def shard_examples(data: DeviceData, mesh: Mesh) -> DeviceData:
    """``data`` (host arrays) on the mesh, split along the example axis over ``"data"``.

    Args:
      data: NumPy fields ``[N, ...]`` and pools of example ids ``[P]``; every process passes
        the same values.
      mesh: the ``"data"`` mesh over ``D`` devices.

    Returns:
      every field as ``[N', ...]``, each device holding ``N' / D`` consecutive rows, with
      ``N' = D * ceil(N / D)``: when ``D`` does not divide ``N`` the last ``N' - N`` rows are
      zeros that no step reads (the epoch permutation draws ids below ``N``, the pools hold ids
      below ``N``). The pools (small) are replicated.

    Each process copies to its devices only the rows those devices hold
    (:func:`process_rows`); the other processes' rows never reach its devices. The host arrays
    are still whole in every process: the loaders read the whole split (an IDX file of MNIST
    size is read in full), which costs host memory only.
    """
    num_devices = mesh.devices.size
    n = np.shape(data.images)[0]
    padded = -(-n // num_devices) * num_devices
    rows = process_rows(padded, mesh)

    def split(x):
        x = np.asarray(x)
        parts = [_rows(x, start, stop) for start, stop in rows]
        local = parts[0] if len(parts) == 1 else np.concatenate(parts)
        sharding = NamedSharding(mesh, P(AXIS))
        return jax.make_array_from_process_local_data(sharding, local, (padded, *x.shape[1:]))

    pools = {
        name: jax.make_array_from_process_local_data(
            NamedSharding(mesh, P()), np.asarray(ids, np.int32)
        )
        for name, ids in data.pools.items()
    }
    return DeviceData(fields={k: split(v) for k, v in data.fields.items()}, pools=pools)


def process_rows(num_rows: int, mesh: Mesh) -> list[tuple[int, int]]:
    """The ``[start, stop)`` row ranges of an ``[num_rows, ...]`` array split over ``"data"``
    that this process's devices hold, in order, adjacent ranges merged (one range for a mesh
    over ``jax.devices()``, whose devices are grouped by process)."""
    index_map = NamedSharding(mesh, P(AXIS)).addressable_devices_indices_map((num_rows,))
    ranges: list[tuple[int, int]] = []
    for start, stop in sorted({idx[0].indices(num_rows)[:2] for idx in index_map.values()}):
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], stop)
        else:
            ranges.append((start, stop))
    return ranges


def _rows(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``[start, stop)`` of ``x``, with zero rows past its end."""
    n = x.shape[0]
    part = x[start:stop]
    missing = stop - max(start, n)
    if missing <= 0:
        return part
    return np.concatenate([part, np.zeros((missing, *x.shape[1:]), x.dtype)])


def abstract_target(state, shardings):
    """``jax.ShapeDtypeStruct`` leaves carrying ``shardings``: an orbax restore target, so a
    checkpoint saved on N devices restores directly onto this mesh's M devices."""
    return jax.tree_util.tree_map(
        lambda x, s: jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=s), state, shardings
    )


def initialize_distributed() -> bool:
    """``jax.distributed.initialize`` when ``AEJAX_MULTIHOST=1``; returns whether it ran.

    On Cloud TPU (and SLURM) JAX finds the coordinator and process ids itself; elsewhere set
    ``AEJAX_COORDINATOR=host:port``, ``AEJAX_NUM_PROCESSES`` and ``AEJAX_PROCESS_ID``. CPU
    processes exchange collectives over gloo.
    """
    import os

    if os.environ.get("AEJAX_MULTIHOST") != "1":
        return False
    kwargs = {}
    if "AEJAX_COORDINATOR" in os.environ:
        kwargs = dict(
            coordinator_address=os.environ["AEJAX_COORDINATOR"],
            num_processes=int(os.environ["AEJAX_NUM_PROCESSES"]),
            process_id=int(os.environ["AEJAX_PROCESS_ID"]),
        )
    if jax.config.jax_platforms in (None, "", "cpu") or "cpu" in str(jax.config.jax_platforms):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(**kwargs)
    return True
