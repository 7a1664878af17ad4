"""``train_graph(config, workdir)``: full-batch training of ``graph.num_runs`` seeds.

The run is :func:`aejax.train.run.make_run` of the graph kind: replica ``r`` uses seed
``seed + r``, its own edge split (``subkey(data key, "edge_split")``), its own initialisation
(``init`` key) and step noise (``fold_in(train key, step)``), as in Kipf & Welling's 10-run
protocol. All replicas have the same array shapes, so the one jitted train step compiles once for
all of them.

Workdir: ``config.json``, ``metrics.jsonl`` (rows with ``run``, ``step`` and the objective's
terms), ``runs/<r>/params.msgpack`` (final parameters, flax msgpack: no pickle) with
``runs/<r>/run.json``, and ``summary.json``. Rerunning skips runs already finished.

SIGTERM or Ctrl-C stops after the current step: the runs finished so far are saved, the one in
progress is dropped (it restarts on the rerun) and the returned summary says ``preempted``;
``summary.json`` is only written once every run is done. A second Ctrl-C exits at once (130).
"""

from __future__ import annotations

import json
import time

import jax
import ml_collections
import numpy as np
from flax import serialization

from aejax import paths
from aejax.errors import CheckpointError, NonFiniteError
from aejax.train import preemption
from aejax.train.logging import MetricWriter
from aejax.train.run import Run, make_run
from aejax.train.state import params_sha256
from aejax.train.workdir import check_same_config


class _Stopped(Exception):
    """A signal asked the graph trainer to stop (raised between steps)."""

    def __init__(self, run: int, step: int):
        super().__init__(run, step)
        self.run, self.step = run, step


def train_graph(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """Trains (or finishes) every run of the graph experiment ``config`` in ``workdir``."""
    workdir = paths.check_writable(workdir)
    with preemption.StopRequest() as stop:
        try:
            return _train_graph(config, workdir, stop)
        except _Stopped as s:
            return {
                "preempted": True,
                "stopped_by": stop.signal_name,
                "signal_received_at_step": stop.received_at,
                "run": s.run,
                "step": s.step,
                "runs_finished": s.run,
            }


def _train_graph(config, workdir: paths.Path, stop: preemption.StopRequest) -> dict:
    check_same_config(workdir, config)
    paths.write_text(workdir / "config.json", config.to_json_best_effort(indent=2) + "\n")
    run = make_run(config)
    exp, graph = run.experiment, run.train_ds
    writer = MetricWriter(workdir)
    start = time.perf_counter()
    runs = []
    try:
        for r in range(run.replicas):
            stop.describe_abort = lambda r=r: (
                f"interrupted again; stopped at once in run {r}; finished runs are saved in "
                f"{workdir / 'runs'}; rerun the same command to continue"
            )
            runs.append(_train_replica(run, r, workdir, writer, stop))
    finally:
        writer.close()
    wall = time.perf_counter() - start
    summary = {
        "step": exp.num_steps,
        "num_runs": exp.num_runs,
        "dataset": graph.name,
        "num_nodes": graph.num_nodes,
        "params_sha256": [r["params_sha256"] for r in runs],
        "wall_time_s": wall,
        # full-batch: every step reconstructs all N nodes' rows
        "examples_per_s": exp.num_steps
        * graph.num_nodes
        * sum(not r["reused"] for r in runs)
        / max(wall, 1e-9),
        "train_compilations": run.runner._cache_size(),
    }
    paths.write_text(workdir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _train_replica(run: Run, r: int, workdir, writer, stop) -> dict:
    exp = run.experiment
    run_dir = workdir / "runs" / str(r)
    record = run_dir / "run.json"
    if record.exists():
        done = json.loads(record.read_text())
        if done.get("step") == exp.num_steps:
            return {**done, "reused": True}
    start = time.perf_counter()
    replica = run.replica(r)
    state = replica.state
    window: list[dict] = []
    for t in range(exp.num_steps):
        stop.step = t
        if stop.requested is not None:
            raise _Stopped(r, t)
        state, metrics = replica.chunk(state, 1)
        metrics = jax.device_get(metrics)
        if not metrics["finite"]:
            raise NonFiniteError(
                f"non-finite loss or gradient in run {r} at step {t}; try a lower "
                "optimizer.learning_rate"
            )
        window.append(metrics)
        if (t + 1) % exp.log_every == 0 or t + 1 == exp.num_steps:
            means = {k: float(np.mean([m[k] for m in window])) for k in window[0] if k != "finite"}
            writer.write(t + 1, {"run": r, **means})
            window = []
    params = jax.device_get(state.params)
    paths.write_bytes(run_dir / "params.msgpack", serialization.to_bytes(params))
    done = {
        "run": r,
        "seed": exp.seed + r,
        "step": exp.num_steps,
        "params_sha256": params_sha256(params),
        # this run's split, initialisation and training, compilation included
        "wall_time_s": time.perf_counter() - start,
    }
    paths.write_text(record, json.dumps(done) + "\n")
    return {**done, "reused": False}


def load_run_params(workdir: paths.PathLike, replica: Run, r: int) -> dict:
    """The final parameters of run ``r``, whose replica of the graph run is ``replica``
    (:meth:`aejax.train.run.Run.replica`), checked against its fresh parameters' structure."""
    path = paths.resolve(workdir) / "runs" / str(r) / "params.msgpack"
    if not path.exists():
        raise CheckpointError(
            f"{path} is missing; train first (scripts/train.py --workdir "
            f"{workdir}) or lower graph.num_runs"
        )
    try:
        return serialization.from_bytes(replica.state.params, path.read_bytes())
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path} does not match the model in config.json: {e}") from None
