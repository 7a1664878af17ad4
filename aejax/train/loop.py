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
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from aejax import build, paths
from aejax.data.base import ArrayDataset
from aejax.defaults import flatten
from aejax.errors import ConfigError, DataError, NonFiniteError
from aejax.train import multihost, preemption, sharding
from aejax.train.checkpoint import Checkpointer, committed_steps
from aejax.train.epochs import DeviceData, EpochOrders, make_chunk_runner
from aejax.train.logging import MetricWriter, read_jsonl
from aejax.train.rng import named_keys, subkey
from aejax.train.state import TrainState, params_sha256
from aejax.train.step import make_train_step, param_norm

# Keys that may change between a run and its resumption (they do not change what a step computes).
RESUMABLE_CHANGES = (
    "train.num_steps",
    "train.num_epochs",
    "train.log_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.progress",
    "train.steps_per_call",
    "train.scan_unroll",
    "train.log_example_ids",
    "train.debug_checks",
    # Device layout and precision: a run may resume on another number of devices or hardware.
    "train.data_parallel",
    "train.shard_params",
    "train.matmul_precision",
    "eval.",
)


def init_state(exp: build.Experiment, image_shape, init_key) -> TrainState:
    """Fresh parameters from ``init_key`` and a zeroed optimizer state.

    Jitted as one program: run eagerly, every initialiser op compiles on its own (dozens of small
    compilations); the values are bitwise the same either way.
    """

    def make(key) -> TrainState:
        dummy = jnp.zeros((1, *image_shape), jnp.float32)
        variables = dict(exp.model.init(key, dummy))
        params = variables.pop("params")
        model_state = variables  # e.g. batch_stats; {} for the current networks
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            model_state=model_state,
            opt_state=exp.tx.init(params),
        )

    return jax.jit(make)(init_key)


def describe_run(config: ml_collections.ConfigDict, ds: ArrayDataset, steps_per_epoch: int) -> dict:
    """What each checkpoint's manifest records about the run (compared when restoring)."""
    return {
        "config": flatten(json.loads(config.to_json_best_effort())),
        "image_shape": list(ds.info.shape),
        "num_examples": len(ds),
        "steps_per_epoch": steps_per_epoch,
    }


def device_data(
    ds: ArrayDataset,
    pools: Mapping[str, np.ndarray] | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> DeviceData:
    """``ds``'s batch fields (and the extra streams' pools of example ids ``{name: [P]}``) on the
    default device, or with ``mesh`` split along the example axis over it
    (:func:`aejax.train.sharding.shard_examples`)."""
    fields, pools = ds.batch_fields(), dict(pools or {})
    if mesh is not None:
        host = DeviceData(
            fields=fields, pools={k: np.asarray(v, np.int32) for k, v in pools.items()}
        )
        return sharding.shard_examples(host, mesh)
    return DeviceData(
        fields={k: jnp.asarray(v) for k, v in fields.items()},
        pools={k: jnp.asarray(v, jnp.int32) for k, v in pools.items()},
    )


def stream_pools(exp: build.Experiment, ds: ArrayDataset) -> dict[str, np.ndarray]:
    """``{stream name: int32[P]}``: the pool of each of the experiment's extra streams, chosen
    from ``subkey(data key, "{name}_pool")``."""
    data_key = named_keys(exp.seed)["data"]
    return {
        s.name: np.asarray(s.select(ds, subkey(data_key, f"{s.name}_pool")), np.int32)
        for s in exp.streams
    }


def _check_same_config(workdir: paths.Path, config: ml_collections.ConfigDict) -> None:
    path = workdir / "config.json"
    if not path.exists():
        return
    old = flatten(json.loads(path.read_text()))
    new = flatten(json.loads(config.to_json_best_effort()))
    changed = sorted(
        k
        for k in set(old) | set(new)
        if old.get(k) != new.get(k) and not any(k.startswith(r) for r in RESUMABLE_CHANGES)
    )
    if changed:
        raise ConfigError(
            f"workdir {workdir} holds a run with a different config ({', '.join(changed[:5])} "
            "differ); use a new --workdir, or delete that one to start over"
        )


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


def train(config: ml_collections.ConfigDict, workdir: paths.PathLike) -> dict:
    """Trains (or resumes) the run described by ``config`` in ``workdir``; returns the summary.

    Raises:
      PathError: ``workdir`` cannot be written (checked before any data is loaded).
    """
    workdir = paths.check_writable(workdir)
    with preemption.StopRequest() as stop, build.matmul_precision(config):
        return _train(config, workdir, stop)


def _train(
    config: ml_collections.ConfigDict, workdir: paths.Path, stop: preemption.StopRequest
) -> dict:
    train_ds = build.load_data(config, "train")
    exp = build.build_experiment(config, train_ds.info.shape, len(train_ds))
    _check_same_config(workdir, config)
    multihost.barrier("aejax-config-checked")  # every process read config.json before it changes
    write_files = multihost.is_writer()
    if write_files:
        paths.write_text(workdir / "config.json", config.to_json_best_effort(indent=2) + "\n")
    settings = exp.train

    keys = named_keys(exp.seed)
    state = init_state(exp, train_ds.info.shape, keys["init"])
    mesh = sharding.mesh_for(settings)
    if mesh is not None:  # the restore target carries the shardings: N devices restore on M
        shardings = sharding.state_shardings(state, mesh, shard_params=settings.shard_params)
        state = sharding.place(state, shardings)
    run_info = describe_run(config, train_ds, settings.steps_per_epoch)
    ckpt = Checkpointer(
        workdir / "checkpoints",
        keep=settings.keep_checkpoints,
        run=run_info,
        ignore_config_keys=RESUMABLE_CHANGES,
        training=True,
    )
    try:
        _check_same_data(ckpt.newest_manifest(), run_info, train_ds, workdir)
        restored, start, refused = ckpt.restore_latest(state)
    except BaseException:
        ckpt.close()
        raise
    if restored is not None:
        state = restored
    if write_files:
        _truncate_metrics(workdir / "metrics.jsonl", after_step=start or 0)
    examples_log = _ExampleLog(workdir, settings.log_example_ids and write_files, start or 0)

    # on_nonfinite=stop discards the state of a non-finite step (it stops before any save), so
    # only skip needs the step to keep its state.
    step_fn = make_train_step(
        exp.model,
        exp.objective,
        exp.tx,
        players=exp.players,
        keep_state_on_nonfinite=settings.on_nonfinite == "skip",
    )
    norm_of_params = jax.jit(param_norm)
    run_chunk, chunk_len = make_chunk_runner(
        step_fn if mesh is None else sharding.shard_batch(step_fn, mesh),
        num_examples=len(train_ds),
        batch_size=settings.batch_size,
        steps_per_call=settings.steps_per_call,
        binarize=exp.binarize,
        data_key=keys["data"],
        binarize_key=keys["binarize"],
        stop_on_nonfinite=settings.on_nonfinite == "stop",
        streams=exp.streams,
        record_indices=settings.log_example_ids,
        unroll=settings.scan_unroll,
    )
    if settings.debug_checks:
        run_chunk = _with_float_checks(run_chunk)
    kill_at = preemption.kill_point()
    preemption.signal_points()  # a malformed $AEJAX_DEBUG_SIGNAL_AT stops here, not mid-run
    data = device_data(train_ds, stream_pools(exp, train_ds), mesh)
    hparams = build.hparams_as_arrays(exp.hparams)
    # Multi-process: every process trains; only the first writes the metric log.
    writer = MetricWriter(workdir) if write_files else _NoWriter()
    step = int(state.step)
    total = settings.num_steps
    epoch_orders = EpochOrders(keys["data"], len(train_ds))
    progress = _progress(settings.progress, total, step)
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
                chunk_len,
                total - step,
                _to_next(step, settings.log_every),
                _to_next(step, settings.checkpoint_every),
            )
            if kill_at is not None and kill_at[0] > step:
                n = min(n, kill_at[0] - step)
            # A sharded run draws its orders inside the chunk, where they get the mesh's
            # placement; an unsharded one reuses each epoch's order across its chunks.
            orders = (
                None if mesh is not None else epoch_orders.get(step // settings.steps_per_epoch)
            )
            state, metrics = run_chunk(state, data, keys["train"], hparams, jnp.int32(n), orders)
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
        try:
            ckpt.close()
        except Exception:  # the error being raised says more than a failed final save
            pass
        raise
    progress.close()
    stop.line_open = False
    writer.close()
    examples_log.close()
    ckpt.close()
    wall = time.perf_counter() - t_start
    trained = step - first_step
    totals = _training_totals(workdir / "summary.json", first_step, trained, wall)
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
        "train_compilations": run_chunk._cache_size(),
        "num_train_examples": len(train_ds),
        "final_train_metrics": _last_row(workdir / "metrics.jsonl"),
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


def _training_totals(path: paths.Path, first_step: int, trained: int, wall: float) -> dict:
    """``steps_trained_total`` and ``training_time_s_total`` over every session of this run.

    ``wall_time_s`` and ``examples_per_s`` describe one session, so rerunning a finished command
    (0 steps) would otherwise leave a summary that no longer says how fast the run trained. The
    previous summary counts only when it is of this run's history (its step <= ``first_step``).
    """
    steps, seconds = trained, wall if trained else 0.0
    if path.exists():
        try:
            prev = json.loads(path.read_text())
        except (OSError, ValueError):
            prev = {}
        if prev.get("step", first_step + 1) <= first_step:
            prev_steps = prev.get("steps_this_session", 0)
            prev_seconds = prev.get("wall_time_s", 0.0) if prev_steps else 0.0
            steps += prev.get("steps_trained_total", prev_steps)
            seconds += prev.get("training_time_s_total", prev_seconds)
    return {"steps_trained_total": steps, "training_time_s_total": seconds}


def _check_same_data(saved: dict | None, run_info: dict, ds: ArrayDataset, workdir) -> None:
    """The data must have the shape the saved run was trained on (else its model cannot load)."""
    if not saved or not saved.get("run"):
        return
    want = saved["run"].get("image_shape")
    if want is not None and list(want) != list(run_info["image_shape"]):
        raise DataError(
            f"{ds.info.source or ds.info.name}: images are {tuple(run_info['image_shape'])} but "
            f"the run in {workdir} was trained on {tuple(want)} (checkpoint at step "
            f"{saved['step']}); use the data it was trained on, or a new --workdir"
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


class _ExampleLog:
    """``examples.jsonl``: ``{"step": s, "ids": [...]}`` per step, when ``train.log_example_ids``.

    Rows of steps at or after the resume point are dropped on resume (they are redone), so the
    file always lists the examples the final state was trained on, in order.
    """

    def __init__(self, workdir: paths.Path, enabled: bool, start: int):
        self._file = None
        if not enabled:
            return
        path = workdir / "examples.jsonl"
        rows = [r for r in read_jsonl(path) if r.get("step", 0) < start] if path.exists() else []
        paths.write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
        self._file = paths.AppendFile(path)

    def write(self, metrics: dict) -> None:
        if self._file is None:
            return
        for s, ids in zip(
            metrics["step"][metrics["active"]], metrics["index"][metrics["active"]], strict=True
        ):
            self._file.write(json.dumps({"step": int(s), "ids": ids.tolist()}) + "\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _to_next(step: int, every: int) -> int:
    return every - step % every


def _truncate_metrics(path: paths.Path, after_step: int) -> None:
    """Drops rows logged after the checkpoint a resumed run restarts from (they are redone)."""
    if path.exists():
        rows = [r for r in read_jsonl(path) if r.get("step", 0) <= after_step]
        paths.write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def _last_row(path: paths.Path) -> dict:
    rows = read_jsonl(path) if path.exists() else []
    return rows[-1] if rows else {}


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

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, smoothing=0.1)
