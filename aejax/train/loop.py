"""``train(config, workdir)``: the one impure module (files, progress bar, checkpoints).

Resume order: the latest complete checkpoint in ``WORKDIR/checkpoints``, else a fresh start.
"""

from __future__ import annotations

import json
import pathlib
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from aejax import build
from aejax.data.base import ArrayDataset
from aejax.defaults import flatten
from aejax.errors import ConfigError, NonFiniteError
from aejax.train.checkpoint import Checkpointer
from aejax.train.epochs import DeviceData, make_chunk_runner
from aejax.train.logging import MetricWriter, read_jsonl
from aejax.train.rng import named_keys
from aejax.train.state import TrainState, params_sha256
from aejax.train.step import make_train_step

# Keys that may change between a run and its resumption (they do not change what a step computes).
RESUMABLE_CHANGES = (
    "train.num_steps",
    "train.num_epochs",
    "train.log_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.progress",
    "train.steps_per_call",
    "eval.",
)


def init_state(exp: build.Experiment, image_shape, init_key) -> TrainState:
    """Fresh parameters from ``init_key`` and a zeroed optimizer state."""
    dummy = jnp.zeros((1, *image_shape), jnp.float32)
    variables = dict(exp.model.init(init_key, dummy))
    params = variables.pop("params")
    model_state = variables  # e.g. batch_stats; {} for the current networks
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        model_state=model_state,
        opt_state=exp.tx.init(params),
    )


def device_data(ds: ArrayDataset, labelled: np.ndarray | None = None) -> DeviceData:
    labels = ds.labels if ds.labels is not None else np.zeros(len(ds), np.int32)
    return DeviceData(
        images=jnp.asarray(ds.images),
        labels=jnp.asarray(labels, jnp.int32),
        labelled=None if labelled is None else jnp.asarray(labelled, jnp.int32),
    )


def _check_same_config(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> None:
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


def train(config: ml_collections.ConfigDict, workdir: str | pathlib.Path) -> dict:
    """Trains (or resumes) the run described by ``config`` in ``workdir``; returns the summary."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    train_ds = build.load_data(config, "train")
    exp = build.build_experiment(config, train_ds.info.shape, len(train_ds))
    _check_same_config(workdir, config)
    (workdir / "config.json").write_text(config.to_json_best_effort(indent=2) + "\n")
    settings = exp.train

    keys = named_keys(exp.seed)
    state = init_state(exp, train_ds.info.shape, keys["init"])
    ckpt = Checkpointer(workdir / "checkpoints", keep=settings.keep_checkpoints)
    start = ckpt.latest_step()
    if start is not None:
        state = ckpt.restore(start, state)
        _truncate_metrics(workdir / "metrics.jsonl", after_step=start)

    run_chunk, chunk_len = make_chunk_runner(
        make_train_step(exp.model, exp.objective, exp.tx),
        num_examples=len(train_ds),
        batch_size=settings.batch_size,
        steps_per_call=settings.steps_per_call,
        binarize=exp.binarize,
        data_key=keys["data"],
        binarize_key=keys["binarize"],
        stop_on_nonfinite=settings.on_nonfinite == "stop",
        labelled_batch_size=exp.labelled_batch_size,
    )
    data = device_data(train_ds, build.labelled_pool(config, train_ds))
    hparams = build.hparams_as_arrays(exp.hparams)
    writer = MetricWriter(workdir)
    step = int(state.step)
    total = settings.num_steps
    progress = _progress(settings.progress, total, step)
    window: dict[str, list] = {}
    skipped = 0
    t_start = time.perf_counter()
    first_step = step
    try:
        while step < total:
            n = min(
                chunk_len,
                total - step,
                _to_next(step, settings.log_every),
                _to_next(step, settings.checkpoint_every),
            )
            state, metrics = run_chunk(state, data, keys["train"], hparams, jnp.int32(n))
            metrics = jax.device_get(metrics)
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
                if k not in ("active", "step", "finite"):
                    window.setdefault(k, []).extend(v[active & metrics["finite"]].tolist())
            step = int(metrics["step"][active][-1]) + 1
            progress.update(int(active.sum()))
            if step % settings.log_every == 0 or step == total:
                scalars = {k: float(np.mean(v)) for k, v in window.items() if v}
                scalars["skipped_steps"] = skipped
                writer.write(step, scalars)
                progress.set_postfix(loss=f"{scalars.get('loss', float('nan')):.2f}")
                window = {}
            if step % settings.checkpoint_every == 0 or step == total:
                ckpt.save(state)
        ckpt.wait()
    finally:
        progress.close()
        writer.close()
        ckpt.close()
    wall = time.perf_counter() - t_start
    trained = step - first_step
    summary = {
        "step": step,
        "params_sha256": params_sha256(state.params),
        "wall_time_s": wall,
        "examples_per_s": trained * settings.batch_size / wall if wall > 0 else 0.0,
        "steps_this_session": trained,
        "resumed_from_step": first_step if first_step else None,
        "skipped_steps": skipped,
        # Compiled versions of the chunk runner this session: 1 unless something recompiles.
        "train_compilations": run_chunk._cache_size(),
        "num_train_examples": len(train_ds),
        "final_train_metrics": _last_row(workdir / "metrics.jsonl"),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _to_next(step: int, every: int) -> int:
    return every - step % every


def _truncate_metrics(path: pathlib.Path, after_step: int) -> None:
    """Drops rows logged after the checkpoint a resumed run restarts from (they are redone)."""
    if path.exists():
        rows = [r for r in read_jsonl(path) if r.get("step", 0) <= after_step]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _last_row(path: pathlib.Path) -> dict:
    rows = read_jsonl(path) if path.exists() else []
    return rows[-1] if rows else {}


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
