"""``train(config, workdir)``: the one impure module (files, progress bar, checkpoints).

Resume order: the newest checkpoint in ``WORKDIR/checkpoints`` that passes verification (newer
ones that fail are logged, listed in ``summary.json`` under ``refused_checkpoints`` and moved to
``checkpoints/refused/``), else a fresh start. SIGTERM or Ctrl-C (SIGINT) stops the run at the
end of the current chunk (at most ``train.steps_per_call`` steps) with a committed checkpoint at
that step and a normal return (``summary["preempted"]``, ``summary["stopped_by"]``); a second
Ctrl-C exits at once with status 130; see :mod:`aejax.train.preemption`.

The workdir may be a local path or a bucket URI (:mod:`aejax.paths`); it is checked for
writability before any data is loaded. With several processes, all train and checkpoint, and
the first alone writes ``config.json``, ``metrics.jsonl``, ``examples.jsonl``, ``summary.json``
and TensorBoard events (:mod:`aejax.train.multihost`).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable

import jax
import ml_collections
import numpy as np

from aejax import build, paths
from aejax.errors import NonFiniteError
from aejax.moved import getattr_for
from aejax.train import multihost, preemption
from aejax.train.checkpoint import Checkpointer
from aejax.train.epochs import EpochOrders
from aejax.train.logging import MetricWriter
from aejax.train.manifest import committed_steps
from aejax.train.periodic import EvalPlan, Evaluations
from aejax.train.run import Run, make_run
from aejax.train.state import params_sha256
from aejax.train.step import param_norm
from aejax.train.workdir import (
    RESUMABLE_CHANGES,
    ExampleLog,
    check_same_config,
    check_same_data,
    describe_run,
    last_row,
    training_totals,
    truncate_metrics,
)

__getattr__ = getattr_for(__name__)  # names that moved elsewhere say where (aejax/moved.py)


def _nonfinite_message(metrics: dict, i: int, step: int, last_good: int | None) -> str:
    bad = [
        k
        for k in ("loss", "recon", "kl", "grad_norm")
        if k in metrics and not np.isfinite(metrics[k][i])
    ]
    where = (
        f"checkpoint at step {last_good} is intact" if last_good is not None else "no checkpoint"
    )
    return (
        f"non-finite {', '.join(bad) or 'loss'} at step {step}; the run stopped ({where}). "
        "Lower optimizer.learning_rate, set optimizer.clip_norm, check the data, or set "
        "train.on_nonfinite=skip"
    )


def train(
    config: ml_collections.ConfigDict,
    workdir: paths.PathLike,
    *,
    make_plan: Callable[[Run], EvalPlan | None] | None = None,
) -> dict:
    """Trains (or resumes) the run described by ``config`` in ``workdir``; returns the summary.

    ``make_plan(run)`` gives the evaluation to run during training (:mod:`aejax.train.periodic`;
    :func:`aejax.kinds.train` passes the one ``config.evals`` asks for); ``None``: none.

    Raises:
      PathError: ``workdir`` cannot be written (checked before any data is loaded).
    """
    workdir = paths.check_writable(workdir)
    with preemption.StopRequest() as stop, build.matmul_precision(config):
        return _train(config, workdir, stop, make_plan)


def _train(
    config: ml_collections.ConfigDict,
    workdir: paths.Path,
    stop: preemption.StopRequest,
    make_plan: Callable[[Run], EvalPlan | None] | None,
) -> dict:
    run = make_run(config)
    train_ds, settings = run.train_ds, run.experiment.train
    check_same_config(workdir, config)
    multihost.barrier("aejax-config-checked")  # every process read config.json before it changes
    write_files = multihost.is_writer()
    if write_files:
        paths.write_text(workdir / "config.json", config.to_json_best_effort(indent=2) + "\n")

    run_info = describe_run(config, train_ds, settings.steps_per_epoch)
    ckpt = Checkpointer(
        workdir / "checkpoints",
        keep=settings.keep_checkpoints,
        run=run_info,
        ignore_config_keys=RESUMABLE_CHANGES,
        training=True,
    )
    try:
        check_same_data(ckpt.newest_manifest(), run_info, train_ds, workdir)
        # The restore target carries the run's shardings: N devices restore on M.
        restored, start, refused = ckpt.restore_latest(run.state)
    except BaseException:
        ckpt.close()
        raise
    state = run.state if restored is None else restored
    try:
        evals = Evaluations(make_plan and make_plan(run), workdir, run_info=run_info)
    except BaseException:
        ckpt.close()
        raise
    if write_files:
        truncate_metrics(workdir / "metrics.jsonl", after_step=start or 0)
    examples_log = ExampleLog(workdir, settings.log_example_ids and write_files, start or 0)

    norm_of_params = jax.jit(param_norm)
    runner = _with_float_checks(run.runner) if settings.debug_checks else run.runner
    kill_at = preemption.kill_point()
    preemption.signal_points()  # a malformed $AEJAX_DEBUG_SIGNAL_AT stops here, not mid-run
    # Multi-process: every process trains; only the first writes the metric log.
    writer = MetricWriter(workdir) if write_files else _NoWriter()
    step = int(state.step)
    total = settings.num_steps
    epoch_orders = EpochOrders(run.keys["data"], len(train_ds))
    progress = _progress(settings.progress and write_files, total, step)  # one bar, not per host
    stop.step, stop.line_open = step, settings.progress
    stop.describe_abort = lambda: _abort_message(stop.step, ckpt.directory)
    window: dict[str, list] = {}
    skipped = 0
    t_start = time.perf_counter()
    first_step = step
    preempted, agreed = False, None
    try:
        while step < total:
            agreed = _agreed_stop(stop)
            if agreed is not None:
                preempted = True
                break
            n = min(
                run.chunk_len,
                total - step,
                _to_next(step, settings.log_every),
                _to_next(step, settings.checkpoint_every),
                evals.to_next(step),
            )
            if kill_at is not None and kill_at[0] > step:
                n = min(n, kill_at[0] - step)
            # A sharded run draws its orders inside the chunk, where they get the mesh's
            # placement; an unsharded one reuses each epoch's order across its chunks.
            orders = (
                None if run.mesh is not None else epoch_orders.get(step // settings.steps_per_epoch)
            )
            state, metrics = runner(*run.runner_args(state, n, orders))
            preemption.maybe_signal_in_chunk(step, step + n)  # fault injection (env var)
            metrics = jax.device_get(metrics)
            examples_log.write(metrics)
            active = metrics["active"]
            finite = metrics["finite"] | ~active
            if not finite.all():
                i = int(np.argmin(finite))
                if settings.on_nonfinite == "stop":
                    ckpt.wait()
                    raise NonFiniteError(
                        _nonfinite_message(metrics, i, int(metrics["step"][i]), ckpt.latest_step())
                    )
                skipped += int((~finite).sum())
            for k, v in metrics.items():
                if k not in ("active", "step", "finite", "index"):
                    window.setdefault(k, []).extend(v[active & metrics["finite"]].tolist())
            step = int(metrics["step"][active][-1]) + 1
            stop.step = step
            progress.update(int(active.sum()))
            if step % settings.log_every == 0 or step == total:
                scalars = {k: float(np.mean(v)) for k, v in window.items() if v}
                scalars["skipped_steps"] = skipped
                scalars["param_norm"] = float(norm_of_params(state.params))
                writer.write(step, scalars)
                progress.set_postfix(loss=f"{scalars.get('loss', float('nan')):.2f}")
                window = {}
            if evals.due(step, total):  # before the checkpoint: its row is durable with it
                evals.run(step, state, writer, progress.write)
            if step % settings.checkpoint_every == 0 or step == total:
                # Rows up to here become durable first: a rerun redoes only steps after it.
                writer.flush()
                examples_log.flush()
                ckpt.save(state)
            preemption.maybe_kill("step", step)
        if preempted:
            # Preemption: save where we stopped; wait() returns once the checkpoint committed.
            writer.flush()
            examples_log.flush()
            progress.close()
            stop.line_open = False
            ckpt.save(state)
        ckpt.wait()
    except BaseException:
        progress.close()
        stop.line_open = False
        writer.close()
        examples_log.close()
        evals.close()
        try:
            ckpt.close()
        except Exception:  # the error being raised says more than a failed final save
            pass
        raise
    progress.close()
    stop.line_open = False
    writer.close()
    examples_log.close()
    evals.close()
    ckpt.close()
    wall = time.perf_counter() - t_start
    trained = step - first_step
    totals = training_totals(workdir / "summary.json", first_step, trained, wall)
    summary = {
        "step": step,
        "params_sha256": params_sha256(state.params),
        "wall_time_s": wall,
        "examples_per_s": trained * settings.batch_size / wall if wall > 0 else 0.0,
        "steps_this_session": trained,
        "resumed_from_step": first_step if first_step else None,
        "preempted": preempted,
        # The signal that stopped the run early ("SIGTERM", "SIGINT"), and the step the run had
        # completed when it arrived (the stop is at the end of the chunk that was then running).
        "stopped_by": signal.Signals(agreed[0]).name if agreed else None,
        "signal_received_at_step": agreed[1] if agreed else stop.received_at,
        "refused_checkpoints": [{"step": s, "reason": msg} for s, msg in refused],
        # sha256 over every leaf of the train state (step, params, model state, optimizer state).
        "state_sha256": params_sha256(state),
        "skipped_steps": skipped,
        # Compiled versions of the chunk runner this session: 1 unless something recompiles.
        "train_compilations": runner._cache_size(),
        "num_train_examples": len(train_ds),
        # Periodic evaluation this session (its time is part of wall_time_s).
        "evaluations": evals.count,
        "evaluation_time_s": evals.seconds,
        "first_evaluation_time_s": evals.first_seconds,
        "final_train_metrics": last_row(workdir / "metrics.jsonl"),
        **totals,
        "examples_per_s_total": totals["steps_trained_total"]
        * settings.batch_size
        / totals["training_time_s_total"]
        if totals["training_time_s_total"] > 0
        else 0.0,
    }
    if write_files:
        paths.write_text(workdir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _agreed_stop(stop: preemption.StopRequest) -> tuple[int, int] | None:
    """``(signal, step it was received at)`` when the run must stop now, else None.

    Multi-process, every process must stop at the same chunk boundary (the save and every step
    are collective), though a scheduler's SIGTERM may reach the hosts at different times: the
    processes exchange their flags between chunks (one small all-gather per chunk) and all stop
    when any has been signalled, with the signal of the first such process.
    """
    mine = np.array(
        [stop.requested or 0, -1 if stop.received_at is None else stop.received_at], np.int32
    )
    rows = mine[None]
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        rows = np.asarray(multihost_utils.process_allgather(mine)).reshape(-1, 2)
    hit = rows[rows[:, 0] != 0]
    return (int(hit[0, 0]), int(hit[0, 1])) if len(hit) else None


def _abort_message(step: int, directory: paths.Path) -> str:
    """The ``error:`` line of a second Ctrl-C at ``step``: what is on disk, from a listing."""
    good = committed_steps(directory)
    if good and good[-1] >= step:
        return (
            f"interrupted again; stopped at step {good[-1]} (the checkpoint at that step is "
            "committed; rerun the same command to continue)"
        )
    if good:
        return (
            f"interrupted again; stopped without saving step {step} (the checkpoint at step "
            f"{good[-1]} is intact; rerun the same command to continue from it)"
        )
    return (
        f"interrupted again; stopped without saving step {step} (no checkpoint yet; rerunning "
        "the same command starts over)"
    )


def _with_float_checks(run_chunk):
    """Debug mode: the chunk under ``checkify`` float checks (NaN produced, division by zero).

    The first failing primitive is reported with its source line, as a :class:`NonFiniteError`.
    """
    from jax.experimental import checkify

    checked = jax.jit(checkify.checkify(run_chunk, errors=checkify.float_checks))

    def run(state, data, train_key, hparams, num_steps, orders=None):
        first = int(state.step)
        err, out = checked(state, data, train_key, hparams, num_steps, orders)
        message = err.get()
        if message is not None:
            raise NonFiniteError(
                f"debug check (train.debug_checks) failed in the chunk starting at step {first}: "
                + " ".join(message.split())
            )
        return out

    run._cache_size = checked._cache_size
    return run


def _to_next(step: int, every: int) -> int:
    return every - step % every


class _NoWriter:
    def write(self, step, scalars, prefix="train"):
        pass

    def flush(self):
        pass

    def close(self):
        pass


class _NoProgress:
    def update(self, n):
        pass

    def write(self, line):
        print(line, flush=True)

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, smoothing=0.1)
