"""The evaluation the train loop runs every few steps (``config.evals``), built from the same
:data:`~aejax.evaluation.parts.EVALUATORS` as ``scripts/evaluate.py``.

:func:`make_plan` turns a run into an :class:`~aejax.train.periodic.EvalPlan`: a function of the
current variables returning ``{"<split>/<metric>": value}``. Its draws come from the run's
``eval`` key folded with the parts' fixed streams, the ones ``scripts/evaluate.py`` uses, so the
training stream is never touched and an evaluation at the last step gives the numbers
``evaluate.py --suite=likelihood`` gives on the same examples with the same K.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from aejax import build
from aejax.evaluation.parts import EVALUATORS
from aejax.evaluation.parts.base import Context, Settings
from aejax.train.periodic import EvalPlan
from aejax.train.run import Run


def catalogue() -> dict[str, tuple[str, ...] | None]:
    """Per part, the metrics ``evals.keep_best`` may name, or ``None``: no numbers to log."""
    return {n: (e.lower_is_better if e.scalars else None) for n, e in EVALUATORS.items()}


def check(config: ml_collections.ConfigDict) -> build.EvalsSettings:
    """``config.evals``, checked (a one-line :class:`~aejax.errors.ConfigError` if invalid)."""
    return build.build_evals(config, catalogue())


@dataclasses.dataclass(frozen=True)
class LiveRun:
    """A run being trained, with what the parts read of a
    :class:`~aejax.train.restore.TrainedRun`."""

    config: ml_collections.ConfigDict
    experiment: build.Experiment
    variables: dict


def make_plan(run: Run) -> EvalPlan | None:
    """The periodic evaluation of ``run`` (a single run of the images kind), or ``None`` when
    ``evals.periodic`` is empty."""
    s = check(run.config)
    if not s.parts:
        return None
    config = run.config
    settings = Settings(
        iwae_k=s.iwae_k,
        batch_size=run.experiment.eval.batch_size,
        max_samples_per_call=run.experiment.eval.max_samples_per_call,
        splits=(s.split,),
        iwae_num_test=s.iwae_num_examples,
        progress=False,
        quiet=True,
        profile="periodic",
    )

    def load_split(split: str):
        ds = run.train_ds if split == "train" else build.load_data(config, split)
        return ds.take(s.num_examples) if s.num_examples else ds

    base = Context(
        run=LiveRun(config, run.experiment, {}),
        workdir=None,
        settings=settings,
        load_split=load_split,
    )

    def evaluate(variables: dict) -> dict[str, float]:
        nonlocal base
        ctx = base.for_run(LiveRun(config, run.experiment, variables))
        scalars: dict[str, float] = {}
        for name in s.parts:
            out, _ = EVALUATORS[name].run(ctx)
            if "skipped" not in out:
                scalars.update(EVALUATORS[name].scalars(out, settings.splits))
        base = ctx  # keeps the split and its inputs for the next evaluation
        return scalars

    every = s.every_steps or run.experiment.train.steps_per_epoch
    return EvalPlan(every=every, evaluate=evaluate, keep_best=s.keep_best)
