"""Agreement between the processes of one run (one process per host; ``AEJAX_MULTIHOST=1``).

Every process trains and takes part in orbax's saves and restores, but a file that is not a
checkpoint is written by the first process alone (:func:`is_writer`), and a decision that depends
on what a process reads from the workdir (which checkpoint to resume from) is taken by the first
process and followed by all (:func:`agree`), so no process resumes from another step than the
rest. With one process every function here is a no-op.
"""

from __future__ import annotations

import jax
import numpy as np

from aejax.errors import CheckpointError


def is_writer() -> bool:
    """True in the process that writes logs, configs and summaries (the first one)."""
    return jax.process_index() == 0


def agree(values: np.ndarray | int | bool) -> np.ndarray:
    """The first process's ``values`` (a fixed-shape integer array), in every process."""
    values = np.asarray(values, np.int64)
    if jax.process_count() == 1:
        return values
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.broadcast_one_to_all(values))


def agree_list(values: list[int]) -> list[int]:
    """The first process's list of integers (any length), in every process."""
    count = int(agree(len(values)))
    if not count or jax.process_count() == 1:
        return list(values)
    mine = values if is_writer() else [0] * count  # the shape the broadcast expects
    return [int(v) for v in agree(np.asarray(mine, np.int64))]


def agree_verdict(ok_here: bool, what: str, error: BaseException | None) -> bool:
    """The first process's verdict on using ``what``; raises ``CheckpointError`` where this
    process cannot use what the first one accepted (``error``: why not)."""
    ok = bool(agree(ok_here))
    if ok and not ok_here:
        raise CheckpointError(
            f"process {jax.process_index()} cannot use {what} that the first process resumes "
            f"from: {error}"
        )
    return ok


def barrier(name: str) -> None:
    """Waits until every process reached the barrier ``name``."""
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(name)
