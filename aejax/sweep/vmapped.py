"""Trains several members of one shape group as one compiled program.

The run is :func:`aejax.train.run.make_run` with ``members``: the ordinary per-member train step
and chunk runner, ``jax.vmap``ped over a leading member axis of the train state, the keys (train,
data order, binarisation) and ``hparams``, while the dataset is shared. Member ``i`` therefore
computes what it would compute alone, up to the float rounding of batched matrix products.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from aejax.train.run import Run, stack, unstack
from aejax.train.state import TrainState

__all__ = ["stack", "train_group", "unstack"]


def train_group(run: Run, on_log=None) -> tuple[TrainState, dict]:
    """Trains every member of the vmapped ``run`` for ``train.num_steps`` steps.

    ``on_log(step, [scalars per member])`` is called every ``train.log_every`` steps with the
    window means of each member's finite steps. Returns the stacked final states and
    ``{"wall_time_s", "compile_s", "nonfinite_steps": int[M], "steps"}``.
    """
    settings = run.experiment.train
    num_members = run.members
    states = run.state
    t0 = time.perf_counter()
    compiled = run.runner.lower(*run.runner_args(states, 1)).compile()
    compile_s = time.perf_counter() - t0
    windows: list[dict[str, list]] = [{} for _ in range(num_members)]
    nonfinite = np.zeros(num_members, np.int64)
    step, total = 0, settings.num_steps
    t0 = time.perf_counter()
    while step < total:
        n = min(run.chunk_len, total - step, settings.log_every - step % settings.log_every)
        states, metrics = compiled(*run.runner_args(states, n))
        metrics = jax.device_get(metrics)
        for i in range(num_members):
            active, finite = metrics["active"][i], metrics["finite"][i]
            nonfinite[i] += int((active & ~finite).sum())
            for k, v in metrics.items():
                if k not in ("active", "step", "finite"):
                    windows[i].setdefault(k, []).extend(v[i][active & finite].tolist())
        step += n
        if step % settings.log_every == 0 or step == total:
            rows = [{k: float(np.mean(v)) for k, v in w.items() if v} for w in windows]
            if on_log is not None:
                on_log(step, rows)
            windows = [{} for _ in range(num_members)]
    jax.block_until_ready(states)
    info = {
        "wall_time_s": time.perf_counter() - t0,
        "compile_s": compile_s,
        "nonfinite_steps": nonfinite.tolist(),
        "steps": step,
    }
    return states, info
