"""Orbax checkpoints of the train state: ``WORKDIR/checkpoints/<step>/``.

Orbax writes each checkpoint into a temporary directory and renames it when complete, so a run
killed mid-save leaves only a temporary directory, which is never listed as a checkpoint; the
previous complete checkpoint is untouched. Keys are not saved: they are re-derived from the seed
and the step (see :mod:`aejax.train.rng`), as is the data position (see :mod:`aejax.train.epochs`).
"""

from __future__ import annotations

import pathlib

import jax
import orbax.checkpoint as ocp

from aejax.errors import CheckpointError
from aejax.train.state import TrainState


class Checkpointer:
    """Saves and restores :class:`TrainState` under ``directory`` keeping the newest ``keep``."""

    def __init__(self, directory: str | pathlib.Path, keep: int = 3, *, asynchronous: bool = True):
        self.directory = pathlib.Path(directory).absolute()
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, enable_async_checkpointing=asynchronous
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, state: TrainState) -> None:
        """Starts saving ``state`` at ``state.step`` (asynchronous; see :meth:`wait`)."""
        step = int(jax.device_get(state.step))
        if step in self._manager.all_steps():
            return
        self._manager.save(step, args=ocp.args.StandardSave(state))

    def restore(self, step: int, template: TrainState) -> TrainState:
        """The state saved at ``step``, with ``template``'s tree structure, shapes and dtypes."""
        try:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(template))
        except Exception as e:  # orbax raises many types; the user needs the step and the reason
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} could not be restored: "
                f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            ) from e
        _check_matches(restored, template, self.directory / str(step))
        return restored

    def wait(self) -> None:
        """Blocks until every started save has committed."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()


def _check_matches(restored: TrainState, template: TrainState, where: pathlib.Path) -> None:
    """Orbax can restore partially; compare paths, shapes and dtypes leaf by leaf ourselves."""
    got = jax.tree_util.tree_flatten_with_path(restored)[0]
    want = jax.tree_util.tree_flatten_with_path(template)[0]
    got_map = {jax.tree_util.keystr(p): v for p, v in got}
    for path, leaf in want:
        name = jax.tree_util.keystr(path)
        if name not in got_map:
            raise CheckpointError(f"checkpoint {where} lacks {name}; it belongs to another model")
        g = got_map[name]
        if g.shape != leaf.shape or g.dtype != leaf.dtype:
            raise CheckpointError(
                f"checkpoint {where}: {name} is {g.dtype}{list(g.shape)}, the model expects "
                f"{leaf.dtype}{list(leaf.shape)}; it belongs to another model config"
            )
