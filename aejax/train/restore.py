"""Reopen a finished (or interrupted) run from its workdir: config, model and trained state."""

from __future__ import annotations

import dataclasses
import json
import sys

import ml_collections

from aejax import build, config_keys, paths
from aejax.defaults import base_config, flatten
from aejax.errors import CheckpointError, ConfigError
from aejax.train.checkpoint import Checkpointer
from aejax.train.rng import named_keys
from aejax.train.run import init_state
from aejax.train.state import TrainState
from aejax.train.workdir import RESUMABLE_CHANGES


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A run as evaluation needs it.

    Attributes:
      config: the run's config (from ``config.json``).
      experiment: the built pieces (model, objective, hparams, ...).
      state: the restored train state.
      image_shape: ``(H, W, C)`` the model was built for.
      step: the checkpoint step that was restored.
    """

    config: ml_collections.ConfigDict
    experiment: build.Experiment
    state: TrainState
    image_shape: tuple[int, ...]
    step: int

    @property
    def variables(self) -> dict:
        """``{"params": ..., **model_state}`` for ``model.apply``."""
        return {"params": self.state.params, **self.state.model_state}


def load_config(workdir: paths.PathLike) -> ml_collections.ConfigDict:
    """The run's saved config laid over today's defaults (keys added since then get defaults).

    Old keys of a run saved before they moved are read at their new place
    (:mod:`aejax.config_keys`), with one note on stderr. The config has every group of the schema
    (evaluators may read groups the run did not train with).
    """
    paths.require_backend(workdir)
    path = paths.resolve(workdir) / "config.json"
    if not path.exists():
        raise CheckpointError(f"{path} not found: is {workdir} a training workdir?")
    config = base_config()
    saved, notes = config_keys.translate_flat(flatten(json.loads(path.read_text())))
    if notes:
        moved = "; ".join(n.removeprefix("note: ").split(";")[0] for n in notes)
        print(f"note: {path} has old config keys, read as: {moved}", file=sys.stderr)
    try:
        config.update_from_flattened_dict(saved)
    except (KeyError, AttributeError, TypeError) as e:
        raise ConfigError(f"{path} does not fit this version's config schema: {e}") from e
    return config


def load_trained(
    workdir: paths.PathLike,
    *,
    step: int | None = None,
    image_shape=None,
    num_train=None,
    checkpoints: str = "checkpoints",
) -> TrainedRun:
    """Restores the run in ``workdir`` at ``step`` (default: the newest checkpoint that passes
    verification; newer refused ones are logged as warnings and left in place).

    ``checkpoints`` names the folder of ``workdir`` to restore from: ``"checkpoints"``, or
    ``"best"`` for the state ``evals.keep_best`` kept (:mod:`aejax.train.periodic`).

    ``image_shape`` and ``num_train`` skip reloading the training split when the caller knows them.

    Raises:
      CheckpointError: the requested checkpoint (or every one) is missing or refused, naming the
        step and the reason.
    """
    workdir = paths.resolve(workdir)
    config = load_config(workdir)
    if image_shape is None or num_train is None:
        train_ds = build.load_data(config, "train")
        image_shape, num_train = train_ds.info.shape, len(train_ds)
    exp = build.build_experiment(config, tuple(image_shape), num_train)
    template = init_state(exp, tuple(image_shape), named_keys(exp.seed)["init"])
    settled = config.copy_and_resolve_references()
    build.settle_config(settled, quiet=True)  # as the run saved it
    run = {
        "config": flatten(json.loads(settled.to_json_best_effort())),
        "image_shape": list(image_shape),
        "num_examples": int(num_train),
    }
    ckpt = Checkpointer(
        workdir / checkpoints,
        keep=exp.train.keep_checkpoints,
        run=run,
        ignore_config_keys=RESUMABLE_CHANGES,
    )
    try:
        if step is None:
            state, step, _ = ckpt.restore_latest(template)
            if state is None:
                raise CheckpointError(f"no complete checkpoint in {workdir / checkpoints}")
        else:
            state = ckpt.restore(step, template)
    finally:
        ckpt.close()
    return TrainedRun(config, exp, state, tuple(image_shape), int(step))
