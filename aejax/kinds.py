"""Experiment kinds: which driver trains a config and which evaluates its run, so entry points
never ask.

:func:`aejax.build.experiment_kind` names a config's kind; :data:`TRAINERS` maps it to the
driver that trains it and :data:`EVALUATORS` to the function that evaluates a trained workdir
(``scripts/evaluate.py``). Every driver assembles its run with :func:`aejax.train.run.make_run`
and returns a summary dict (``preempted`` when a signal stopped it). Periodic evaluation
(``config.evals``) is wired here for the images kind; sequence runs are evaluated after training
and graph runs have their own evaluation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import ml_collections

from aejax import build, paths
from aejax.evaluation import periodic
from aejax.evaluation.workdir import EvalRequest, evaluate_images, evaluate_sequences
from aejax.graph.train import train_graph
from aejax.train import loop


def train_images(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """The images kind: :func:`aejax.train.loop.train` with the periodic evaluation that
    ``config.evals`` asks for (checked before any data is loaded)."""
    periodic.check(config)
    return loop.train(config, workdir, make_plan=periodic.make_plan)


def train_sequences(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """The sequences kind: :func:`aejax.train.loop.train` without periodic evaluation (the
    suite's parts score images; ``scripts/evaluate.py`` gives the per-frame errors)."""
    if periodic.check(config).parts:
        print(
            "note: evals.periodic is not run for sequences; scripts/evaluate.py gives their "
            "per-frame errors after training",
            file=sys.stderr,
        )
    return loop.train(config, workdir)


def evaluate_graph(workdir: paths.PathLike, request: EvalRequest) -> list[str]:
    """Link prediction and clustering of a GAE/VGAE run (:mod:`aejax.graph.evaluate`; the
    request's sizes do not apply: a graph is evaluated whole)."""
    from aejax.graph import evaluate

    del request
    out = paths.resolve(workdir) / "eval.json"
    return [evaluate.describe(evaluate.evaluate_graph(workdir)) + f"; wrote {out}"]


# experiment kind -> train(config, workdir) -> summary
TRAINERS: dict[str, Callable[[ml_collections.ConfigDict, paths.PathLike], dict]] = {
    "images": train_images,
    "sequences": train_sequences,
    "graph": train_graph,
}
# experiment kind -> evaluate(workdir, request) -> lines to print
EVALUATORS: dict[str, Callable[[paths.PathLike, EvalRequest], list[str]]] = {
    "images": evaluate_images,
    "sequences": evaluate_sequences,
    "graph": evaluate_graph,
}


def train(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """Trains (or resumes) ``config`` in ``workdir`` with the driver of its kind.

    The config is settled first (:func:`aejax.build.settle_config`, in place): old keys move to
    their new place with a note, and groups the run does not use are dropped.
    """
    build.settle_config(config)
    return TRAINERS[build.experiment_kind(config)](config, workdir)


def evaluate(workdir: paths.PathLike, request: EvalRequest) -> list[str]:
    """Evaluates the run in ``workdir`` with the evaluator of its kind; returns the lines to
    print (what it measured, the files it wrote)."""
    from aejax.train.restore import load_config

    return EVALUATORS[build.experiment_kind(load_config(workdir))](workdir, request)
