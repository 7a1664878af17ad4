"""Orbax checkpoints of the train state, verified before use: ``WORKDIR/checkpoints/<step>/``.

A checkpoint is *complete* when orbax has committed it: on a local disk by renaming its
temporary directory into place, on a bucket (``gs://``, where a rename is a copy) by writing
``commit_success.txt`` into ``<step>/`` last. aejax writes a manifest (:mod:`aejax.train.manifest`)
into the directory being written just before that commit, so a run killed mid-save leaves only
``<step>.orbax-checkpoint-tmp`` (or an uncommitted ``<step>/`` on a bucket), which is never listed
as a checkpoint, and the previous complete checkpoint is untouched.

Before a checkpoint is restored it is *verified*: every file's size and sha256 against the
manifest, the config and image shape it was written for, the leaf paths, dtypes and shapes in the
manifest and in orbax's metadata against the model, and, after restoring, the sha256 of every
restored leaf against the one computed when it was saved (orbax can restore partially without
complaint, orbax issue #2972). A checkpoint failing any check is refused with
``CheckpointError("checkpoint at step S ... refused: <reason>")``.

Retention keeps the ``keep`` newest complete checkpoints; temporary directories never count and
the newest complete checkpoint is never deleted; with several processes the first chooses and all
delete the same (orbax's delete ends in a barrier that every process must reach). Nothing
non-finite is ever saved. Keys are not
saved: they are re-derived from the seed and the step (see :mod:`aejax.train.rng`), as is the data
position (see :mod:`aejax.train.epochs`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from aejax import paths
from aejax.errors import CheckpointError, NonFiniteError
from aejax.train import manifest, multihost, preemption
from aejax.train.state import TrainState

TMP_SUFFIX = ".orbax-checkpoint-tmp"
ITEM = "default"  # orbax's directory for the single (unnamed) item of each checkpoint
REFUSED_DIR = "refused"  # WORKDIR/checkpoints/refused/<step>[-n]: refused checkpoints moved aside


class Checkpointer:
    """Saves, verifies and restores :class:`TrainState` under ``directory``.

    Args:
      directory: ``WORKDIR/checkpoints``.
      keep: how many complete checkpoints to keep (the newest ones).
      run: what the run is (``config``: flattened config dict, ``image_shape``, ``num_examples``,
        ``steps_per_epoch``); saved in each manifest and compared on restore. ``None`` (e.g. for
        inspection) skips the comparison.
      ignore_config_keys: config key prefixes that may differ from the saved run (run length,
        logging cadence: they do not change what a step computes).
      training: a training run owns the directory: it removes orbax's leftover temporary
        directories, applies retention and moves refused checkpoints aside. Readers (evaluation)
        leave everything as it is.
    """

    def __init__(
        self,
        directory: paths.PathLike,
        keep: int = 3,
        *,
        run: Mapping | None = None,
        ignore_config_keys: tuple[str, ...] = (),
        training: bool = False,
    ):
        self.directory = paths.resolve(directory)
        self.keep = keep
        self.run = dict(run) if run is not None else None
        self.ignore_config_keys = ignore_config_keys
        self.training = training
        self._pending: dict | None = None  # manifest content of the save in flight
        self._callback_error: BaseException | None = None
        self._lock = threading.Lock()
        options = ocp.CheckpointManagerOptions(
            max_to_keep=None,  # retention is ours: it must only count verified, complete ones
            create=True,
            enable_async_checkpointing=True,
            cleanup_tmp_directories=training,
            async_options=ocp.options.AsyncOptions(post_finalization_callback=self._on_written),
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    # ---- listing ---------------------------------------------------------------------------

    def all_steps(self) -> list[int]:
        """Steps of complete checkpoints (renamed into place; not yet verified)."""
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.all_steps()
        return steps[-1] if steps else None

    def temporary_dirs(self) -> list[paths.Path]:
        """Leftovers of interrupted saves (never checkpoints)."""
        return sorted(p for p in self.directory.glob(f"*{TMP_SUFFIX}*") if p.is_dir())

    def step_dir(self, step: int) -> paths.Path:
        return self.directory / str(step)

    # ---- saving ----------------------------------------------------------------------------

    def save(self, state: TrainState) -> None:
        """Starts saving ``state`` at ``state.step`` (asynchronous; see :meth:`wait`).

        Raises:
          NonFiniteError: a leaf holds NaN/Inf (nothing is written).
          CheckpointError: the previous save failed (e.g. the disk is full).
        """
        step = int(jax.device_get(state.step))
        self.wait()  # one save in flight at a time; its manifest belongs to it
        if step in self.all_steps():
            return
        leaves = manifest.host_leaves(state)
        for name, value in leaves:
            if np.issubdtype(value.dtype, np.inexact) and not np.isfinite(value).all():
                raise NonFiniteError(
                    f"state at step {step} holds NaN/Inf in {name}; it was not saved "
                    f"({self._intact_note()})"
                )
        content = {
            "step": step,
            "tree": manifest.tree_spec(state),
            "state_sha256": manifest.leaves_sha256(leaves),
            "run": self.run,
        }
        if self.run and self.run.get("steps_per_epoch"):
            content["epoch"], content["batch_in_epoch"] = divmod(step, self.run["steps_per_epoch"])
        self._pending = content
        try:
            self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
        except Exception as e:
            raise CheckpointError(
                f"saving the checkpoint at step {step} in {self.directory} failed: "
                f"{_one_line(e)} ({self._intact_note()})"
            ) from e

    def _on_written(self) -> None:
        """Orbax's post-finalisation hook: the arrays are written, the rename has not happened."""
        content = self._pending
        if content is None:
            return
        step = content["step"]
        try:
            preemption.maybe_kill("save", step)  # fault injection for tests (env vars)
            preemption.maybe_signal_in_save(step)
            if multihost.is_writer():  # every process's arrays are written by now
                manifest.write(self._being_written(step), content)
        except BaseException as e:
            # Raising here stops orbax before it renames the directory: the save never commits.
            self._callback_error = e
            raise

    def _being_written(self, step: int) -> paths.Path:
        """The directory orbax is writing ``step`` into: the temporary one that it renames into
        place, or, where it commits with a commit file instead (buckets), ``<step>/`` itself."""
        tmp = [p for p in self.directory.glob(f"{step}{TMP_SUFFIX}*") if p.is_dir()]
        if len(tmp) == 1:
            return tmp[0]
        if not tmp and self.step_dir(step).is_dir():
            return self.step_dir(step)
        raise RuntimeError(f"expected one directory being written for step {step}, got {tmp}")

    def wait(self) -> None:
        """Blocks until the save in flight has committed, then applies retention.

        Raises:
          CheckpointError: the save failed (disk full, permissions); earlier checkpoints are intact.
        """
        try:
            self._manager.wait_until_finished()
        except Exception as e:
            step = self._pending["step"] if self._pending else "?"
            self._pending = None
            raise CheckpointError(
                f"saving the checkpoint at step {step} in {self.directory} failed: "
                f"{_one_line(e)} ({self._intact_note()})"
            ) from e
        if self._callback_error is not None:
            e, self._callback_error = self._callback_error, None
            raise CheckpointError(
                f"writing the manifest of the checkpoint in {self.directory} failed: "
                f"{_one_line(e)} ({self._intact_note()})"
            ) from e
        self._pending = None
        if self.training:
            self._apply_retention()

    def _apply_retention(self) -> None:
        """Deletes all but the ``keep`` newest complete checkpoints (the first process's choice:
        one that looked after the first began deleting would see one fewer, skip a barrier)."""
        complete = self._with_manifest() if multihost.is_writer() else []
        for s in multihost.agree_list(complete[: max(len(complete) - self.keep, 0)]):
            self._manager.delete(s)

    def _with_manifest(self) -> list[int]:
        return [s for s in self.all_steps() if (self.step_dir(s) / manifest.NAME).exists()]

    def _intact_note(self) -> str:
        good = self._with_manifest()
        return f"checkpoint at step {good[-1]} is intact" if good else "no earlier checkpoint"

    # ---- verifying and restoring -------------------------------------------------------------

    def verify(self, step: int, template: TrainState) -> dict:
        """Checks checkpoint ``step`` without restoring it; returns its manifest.

        Raises:
          CheckpointError: ``"checkpoint at step S (path) refused: reason"``.
        """
        try:
            return self._verify(step, template)
        except ValueError as e:
            raise CheckpointError(
                f"checkpoint at step {step} ({self.step_dir(step)}) refused: {e}"
            ) from e

    def _verify(self, step: int, template: TrainState) -> dict:
        if step not in self.all_steps():
            tmp = [p.name for p in self.directory.glob(f"{step}{TMP_SUFFIX}*")]
            if tmp:
                raise ValueError(
                    f"only the temporary directory {tmp[0]} exists: the save was "
                    "interrupted before it committed"
                )
            raise ValueError(
                f"there is no complete checkpoint at that step; have {self.all_steps()}"
            )
        directory = self.step_dir(step)
        content = manifest.read(directory)
        if content.get("step") != step:
            raise ValueError(f"its manifest is for step {content.get('step')}, not {step}")
        manifest.check_files(directory, content)
        if self.run is not None and content.get("run"):
            self._check_run(content["run"])
        want = manifest.tree_spec(template)
        manifest.compare_trees(content["tree"], want, "its manifest")
        try:
            stored = ocp.StandardCheckpointHandler().metadata(directory / ITEM)
            stored = manifest.tree_spec(stored.tree if hasattr(stored, "tree") else stored)
        except Exception as e:
            raise ValueError(f"orbax cannot read its metadata ({_one_line(e)})") from e
        manifest.compare_trees(stored, want, "the stored arrays")
        return content

    def _check_run(self, saved: Mapping) -> None:
        diff = manifest.config_differences(
            saved.get("config") or {}, self.run.get("config") or {}, self.ignore_config_keys
        )
        if diff:
            k = diff[0]
            raise ValueError(
                f"it was written by a different config ({k}={saved['config'].get(k)!r} there, "
                f"{self.run['config'].get(k)!r} here; {len(diff)} keys differ)"
            )
        for key in ("image_shape", "num_examples"):
            if key in saved and key in self.run and _norm(saved[key]) != _norm(self.run[key]):
                raise ValueError(
                    f"it was trained with {key}={saved[key]}, this run has {key}={self.run[key]}"
                )

    def restore(self, step: int, template: TrainState) -> TrainState:
        """The verified state saved at ``step``, with ``template``'s structure, shapes and dtypes.

        Raises:
          CheckpointError: naming the step and why it was refused.
        """
        return self._restore_verified(step, template, self.verify(step, template))

    def _restore_verified(self, step: int, template: TrainState, content: dict) -> TrainState:
        try:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(template))
        except Exception as e:  # orbax raises many types; the user needs the step and the reason
            raise CheckpointError(
                f"checkpoint at step {step} ({self.step_dir(step)}) refused: orbax could not "
                f"restore it ({_one_line(e)})"
            ) from e
        try:
            manifest.compare_trees(
                manifest.tree_spec(restored), manifest.tree_spec(template), "the restored state"
            )
            if manifest.leaves_sha256(manifest.host_leaves(restored)) != content["state_sha256"]:
                raise ValueError("the restored arrays differ from the saved ones (state sha256)")
        except ValueError as e:
            raise CheckpointError(
                f"checkpoint at step {step} ({self.step_dir(step)}) refused: {e}"
            ) from e
        return restored

    def restore_latest(
        self, template: TrainState
    ) -> tuple[TrainState | None, int | None, list[tuple[int, str]]]:
        """Restores the newest checkpoint that passes verification, falling back to older ones.

        Each refused checkpoint is logged as a warning; in a training run it is moved to
        ``checkpoints/refused/`` so that the run can save that step again. With several
        processes, the first one's verdict on each candidate is everyone's (a process that
        cannot restore the checkpoint the first one chose raises), so all resume from one step.

        Returns:
          ``(state, step, refused)``: ``(None, None, [])`` when there is no checkpoint at all;
          ``refused`` lists ``(step, message)`` of the newer checkpoints that were skipped.

        Raises:
          CheckpointError: checkpoints exist but every one was refused (so the run does not
            silently start over); the message lists each step and reason.
        """
        refused: list[tuple[int, str]] = []
        for step in self._candidates():
            try:
                content, error = self.verify(step, template), None
            except CheckpointError as e:
                content, error = None, e
            if not multihost.agree_verdict(error is None, f"the checkpoint at step {step}", error):
                refused.append((step, self._refusal(step, error)))
                continue
            try:
                state, error = self._restore_verified(step, template, content), None
            except CheckpointError as e:
                state, error = None, e
            if not multihost.agree_verdict(error is None, f"the checkpoint at step {step}", error):
                refused.append((step, self._refusal(step, error)))
                continue
            if self.training and multihost.is_writer():
                for bad, _ in refused:
                    self._move_aside(bad)
            multihost.barrier(f"aejax-restored-{step}")
            if refused:
                self._manager.reload()
            return state, step, refused
        if refused:
            raise CheckpointError(
                f"no usable checkpoint in {self.directory}: "
                + "; ".join(msg for _, msg in refused)
                + ". Move the directory aside to start over, or use a new --workdir"
            )
        return None, None, []

    def _refusal(self, step: int, error: BaseException | None) -> str:
        message = (
            str(error)
            if error is not None
            else (f"checkpoint at step {step} ({self.step_dir(step)}) refused by the first process")
        )
        logging.warning("%s; falling back to an older checkpoint", message)
        return message

    def _candidates(self) -> list[int]:
        """Complete checkpoints, newest first, as the first process lists them."""
        steps = self.all_steps()[::-1]
        count = int(multihost.agree(len(steps)))
        padded = np.full(max(count, 1), -1, np.int64)
        padded[: min(count, len(steps))] = steps[:count]
        return [int(s) for s in multihost.agree(padded)[:count]]

    def _move_aside(self, step: int) -> None:
        target = self.directory / REFUSED_DIR / str(step)
        n = 0
        while target.exists():
            n += 1
            target = self.directory / REFUSED_DIR / f"{step}-{n}"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.step_dir(step).rename(target)
        self._manager.reload()
        logging.warning("moved the refused checkpoint at step %d to %s", step, target)

    def newest_manifest(self) -> dict | None:
        """The manifest of the newest complete checkpoint that has a readable one, or None."""
        for step in reversed(self.all_steps()):
            try:
                return manifest.read(self.step_dir(step))
            except ValueError:
                continue
        return None

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._manager.close()


def _norm(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"
