"""Evaluation during training: when it is due, the rows it logs and the best checkpoint.

What is evaluated comes from above this layer as an :class:`EvalPlan` (the images kind builds it
with :func:`aejax.evaluation.periodic.make_plan` from ``config.evals``); the loop only asks
:class:`Evaluations` how many steps remain to the next evaluation and runs it there. An
evaluation sees the current variables and nothing else of the run: it never draws from the
training keys, so the trained parameters are bitwise the same with it or without it.

Rows go to ``metrics.jsonl`` as ``{"step": s, "<split>/<metric>": value, ...}`` (keys with a
``/``, which train rows never have) and to TensorBoard under the same tags. With ``keep_best``,
``WORKDIR/best/`` holds the state where that metric was lowest (one checkpoint, through the same
crash-safe :class:`~aejax.train.checkpoint.Checkpointer`) and ``WORKDIR/best.json`` says
``{"metric", "value", "step"}``; it is written after the checkpoint commits and read back on
resume. With several processes every process evaluates host copies of the parameters (so all
take the same keep-best decision) and the first alone writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import NamedTuple

import jax

from aejax import paths
from aejax.train import multihost
from aejax.train.checkpoint import Checkpointer
from aejax.train.state import TrainState
from aejax.train.workdir import RESUMABLE_CHANGES

BEST_DIR, BEST_FILE = "best", "best.json"


class EvalPlan(NamedTuple):
    """An evaluation the loop runs every ``every`` steps and at the last step.

    Attributes:
      every: steps between evaluations.
      evaluate: ``evaluate(variables) -> {"<split>/<metric>": float}``; ``variables`` is
        ``{"params": ..., **model_state}``.
      keep_best: the metric (lower is better) whose best state ``WORKDIR/best/`` keeps; "" = off.
    """

    every: int
    evaluate: Callable[[dict], dict[str, float]]
    keep_best: str = ""


def read_best(workdir: paths.Path) -> dict | None:
    """``best.json`` (``{"metric", "value", "step"}``), or ``None`` when there is none."""
    path = workdir / BEST_FILE
    return json.loads(path.read_text()) if path.exists() else None


class Evaluations:
    """The loop's side of an :class:`EvalPlan` (``plan=None``: nothing is ever due)."""

    def __init__(self, plan: EvalPlan | None, workdir: paths.Path, *, run_info: dict):
        self.plan = plan
        self.workdir = workdir
        self.seconds = 0.0
        self.first_seconds = 0.0  # the first also loads its split and compiles its programs
        self.count = 0
        self.best = None
        self._ckpt = None
        if plan is not None and plan.keep_best:
            self._ckpt = Checkpointer(
                workdir / BEST_DIR,
                keep=1,
                run=run_info,
                ignore_config_keys=RESUMABLE_CHANGES,
                training=True,
            )
            best = read_best(workdir)
            if best is not None and best.get("metric") == plan.keep_best:
                self.best = best

    def to_next(self, step: int) -> int:
        """Steps until the next evaluation (a large number when none is planned)."""
        if self.plan is None:
            return 1 << 62
        return self.plan.every - step % self.plan.every

    def due(self, step: int, total: int) -> bool:
        return self.plan is not None and (step % self.plan.every == 0 or step == total)

    def run(self, step: int, state: TrainState, writer, echo: Callable[[str], None]) -> dict:
        """Evaluates ``state`` at ``step``, logs the row and keeps the best state."""
        start = time.perf_counter()
        variables = {"params": state.params, **state.model_state}
        if jax.process_count() > 1:  # global arrays: every process takes part in the gather
            from jax.experimental import multihost_utils

            variables = multihost_utils.process_allgather(variables, tiled=True)
        scalars = self.plan.evaluate(variables)
        writer.write(step, scalars, prefix=None)
        seconds = time.perf_counter() - start
        self.seconds += seconds
        if self.count == 0:
            self.first_seconds = seconds
        self.count += 1
        if multihost.is_writer():
            shown = ", ".join(f"{k} {v:.4g}" for k, v in scalars.items())
            echo(f"[eval] step {step}: {shown} ({seconds:.1f} s)")
        self._keep_if_best(step, state, scalars)
        return scalars

    def _keep_if_best(self, step: int, state: TrainState, scalars: dict) -> None:
        metric = self.plan.keep_best
        value = scalars.get(metric)
        if self._ckpt is None or value is None:
            return
        if self.best is not None and not value < self.best["value"]:
            return
        self._ckpt.save(state)
        self._ckpt.wait()  # committed before best.json names it
        self.best = {"metric": metric, "value": float(value), "step": int(step)}
        if multihost.is_writer():
            paths.write_text(self.workdir / BEST_FILE, json.dumps(self.best, indent=2) + "\n")

    def close(self) -> None:
        if self._ckpt is not None:
            self._ckpt.close()
