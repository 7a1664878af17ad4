"""Evaluating a trained run's workdir, as ``scripts/evaluate.py`` asks: one
:class:`EvalRequest` (its flags) and one function per experiment kind.

The script does not ask what a run is: :func:`aejax.kinds.evaluate` picks the function of the
run's kind (:func:`aejax.build.experiment_kind`): :func:`evaluate_images` runs the suite of parts
(:mod:`aejax.evaluation.suite`), :func:`evaluate_sequences` the per-frame errors of
:mod:`aejax.evaluation.sequence`; graph runs have :mod:`aejax.graph.evaluate`. Each returns the
lines to print (the files it wrote, what it measured).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping

from aejax import build, paths
from aejax.errors import DataError
from aejax.evaluation import profiles, suite


@dataclasses.dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and how much (``scripts/evaluate.py``'s flags).

    Attributes:
      parts: the suite's parts to run, in order (:data:`aejax.evaluation.parts.PARTS`).
      profile: ``"quick"`` or ``"paper"`` (:mod:`aejax.evaluation.profiles`).
      given: settings given as flags (``{"iwae_k": 5000, ...}``): they replace the profile's
        choice and the run's ``eval.*`` value.
      splits: splits of the likelihood metrics.
      step: the checkpoint step (None: the latest).
      checkpoint: ``"latest"`` or ``"best"`` (the state ``evals.keep_best`` kept).
      num_test: evaluate the first N test examples only (None: the run's ``data.num_test``).
      protocol: the disentanglement metrics' protocol (``aejax_v1`` or ``dlib_study_v1``).
      progress: progress bars on stderr.
      baseline_workdir: sequence runs: a frame-wise image autoencoder run to compare with.
    """

    parts: tuple[str, ...] = suite.PARTS
    profile: str = "quick"
    given: Mapping[str, int] = dataclasses.field(default_factory=dict)
    splits: tuple[str, ...] = ("test",)
    step: int | None = None
    checkpoint: str = "latest"
    num_test: int | None = None
    protocol: str = "aejax_v1"
    progress: bool = True
    baseline_workdir: str | None = None


def _trained(workdir: paths.Path, request: EvalRequest):
    from aejax.train.restore import load_trained

    best = request.checkpoint == "best"
    return load_trained(workdir, step=request.step, checkpoints="best" if best else "checkpoints")


def _split_loader(run, workdir: paths.Path, num_test: int | None):
    """``split -> ArrayDataset`` of the run's data, checked against the model's input shape."""

    def load_split(split: str):
        ds = build.load_data(run.config, split, num_examples=num_test if split == "test" else None)
        shape = tuple(ds.images.shape[1:])
        if shape != tuple(run.image_shape):
            raise DataError(
                f"{split} examples are shaped {shape} but the model in {workdir} was trained on "
                f"{tuple(run.image_shape)}; check data.name and its options"
            )
        return ds

    return load_split


def evaluate_images(workdir: paths.PathLike, request: EvalRequest) -> list[str]:
    """The suite's parts on an images run: updates ``WORKDIR/eval.json`` (a run with a subset of
    parts keeps the sections of the others) and writes the parts' PNGs."""
    workdir = paths.resolve(workdir)
    run = _trained(workdir, request)
    settings = suite.settings_for(
        profiles.get_profile(request.profile),
        run.experiment.eval,
        dict(request.given),
        splits=tuple(request.splits),
        disentanglement_protocol=request.protocol,
        progress=request.progress,
    )
    eval_path = workdir / "eval.json"
    result = json.loads(eval_path.read_text()) if eval_path.exists() else {}
    if result.get("step") not in (None, run.step) or result.get("checkpoint", "latest") != (
        request.checkpoint
    ):
        result = {}  # another checkpoint's numbers: start afresh
    ctx = suite.Context(
        run=run,
        workdir=workdir,
        settings=settings,
        load_split=_split_loader(run, workdir, request.num_test),
    )
    start = time.perf_counter()
    result, written = suite.run_suite(ctx, request.parts, result, overridden=tuple(request.given))
    result.update(
        step=run.step,
        checkpoint=request.checkpoint,
        num_test=len(ctx.split("test")),
        batch_size=settings.batch_size,
        max_samples_per_call=settings.max_samples_per_call,
        binarize=run.experiment.binarize,
        dataset=run.experiment.data.name,
        eval_wall_time_s=time.perf_counter() - start,
    )
    paths.write_text(eval_path, json.dumps(result, indent=2) + "\n")
    hint = "; --profile paper for the numbers to publish" if settings.profile == "quick" else ""
    lines = [
        f"evaluated step {run.step} in {result['eval_wall_time_s']:.1f} s "
        f"({settings.profile} profile{hint})"
    ]
    return lines + [f"wrote {p}" for p in [eval_path, *written]]


def evaluate_sequences(workdir: paths.PathLike, request: EvalRequest) -> list[str]:
    """Per-frame reconstruction and prediction errors of a sequence run, against baselines
    (:func:`aejax.evaluation.sequence.evaluate_run`); the suite's parts do not apply."""
    from aejax.evaluation import sequence

    workdir = paths.resolve(workdir)
    run = _trained(workdir, request)
    test = _split_loader(run, workdir, request.num_test)("test")
    batch_size = request.given.get("batch_size", run.experiment.eval.batch_size)
    written = sequence.evaluate_run(
        run, test, workdir, batch_size=batch_size, baseline_workdir=request.baseline_workdir
    )
    return [f"wrote {p}" for p in written]
