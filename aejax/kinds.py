"""Experiment kinds: which driver trains a config, so entry points never ask.

:func:`aejax.build.experiment_kind` names a config's kind; :data:`TRAINERS` maps it to the
driver that trains it. Every driver assembles its run with :func:`aejax.train.run.make_run` and
returns a summary dict (``preempted`` when a signal stopped it). Periodic evaluation
(``config.evals``) is wired here for the images kind; graph runs have their own evaluation.
"""

from __future__ import annotations

from collections.abc import Callable

import ml_collections

from aejax import build, paths
from aejax.evaluation import periodic
from aejax.graph.train import train_graph
from aejax.train import loop


def train_images(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """The images kind: :func:`aejax.train.loop.train` with the periodic evaluation that
    ``config.evals`` asks for (checked before any data is loaded)."""
    periodic.check(config)
    return loop.train(config, workdir, make_plan=periodic.make_plan)


# experiment kind -> train(config, workdir) -> summary
TRAINERS: dict[str, Callable[[ml_collections.ConfigDict, paths.PathLike], dict]] = {
    "images": train_images,
    "graph": train_graph,
}


def train(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """Trains (or resumes) ``config`` in ``workdir`` with the driver of its kind.

    The config is settled first (:func:`aejax.build.settle_config`, in place): old keys move to
    their new place with a note, and groups the run does not use are dropped.
    """
    build.settle_config(config)
    return TRAINERS[build.experiment_kind(config)](config, workdir)
