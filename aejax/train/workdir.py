"""What a run keeps in its workdir besides checkpoints, and the checks made when it resumes.

``config.json`` (a rerun must ask for the same run, up to :data:`RESUMABLE_CHANGES`),
``metrics.jsonl`` and ``examples.jsonl`` (rows after the resumed step are dropped: they are
redone) and ``summary.json`` (totals over every session of the run).
"""

from __future__ import annotations

import json

import ml_collections

from aejax import config_keys, paths
from aejax.data.base import ArrayDataset
from aejax.defaults import flatten
from aejax.errors import ConfigError, DataError
from aejax.train.logging import read_jsonl

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
    "evals.",
)


def describe_run(config: ml_collections.ConfigDict, ds: ArrayDataset, steps_per_epoch: int) -> dict:
    """What each checkpoint's manifest records about the run (compared when restoring)."""
    return {
        "config": flatten(json.loads(config.to_json_best_effort())),
        "image_shape": list(ds.info.shape),
        "num_examples": len(ds),
        "steps_per_epoch": steps_per_epoch,
    }


def check_same_config(workdir: paths.Path, config: ml_collections.ConfigDict) -> None:
    """Refuses a workdir that holds a run of another config (keys in
    :data:`RESUMABLE_CHANGES` may differ).

    A ``config.json`` saved before keys moved is read with their new names; keys that only one
    side has (a group one of them dropped as unused, a key added to the schema since) are not
    compared.
    """
    path = workdir / "config.json"
    if not path.exists():
        return
    old, _ = config_keys.translate_flat(flatten(json.loads(path.read_text())))
    new = flatten(json.loads(config.to_json_best_effort()))
    changed = sorted(
        k
        for k in set(old) & set(new)
        if old.get(k) != new.get(k) and not any(k.startswith(r) for r in RESUMABLE_CHANGES)
    )
    if changed:
        raise ConfigError(
            f"workdir {workdir} holds a run with a different config ({', '.join(changed[:5])} "
            "differ); use a new --workdir, or delete that one to start over"
        )


def check_same_data(saved: dict | None, run_info: dict, ds: ArrayDataset, workdir) -> None:
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


def training_totals(path: paths.Path, first_step: int, trained: int, wall: float) -> dict:
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


class ExampleLog:
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


def truncate_metrics(path: paths.Path, after_step: int) -> None:
    """Drops rows logged after the checkpoint a resumed run restarts from (they are redone)."""
    if path.exists():
        rows = [r for r in read_jsonl(path) if r.get("step", 0) <= after_step]
        paths.write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def is_eval_row(row: dict) -> bool:
    """True for a row of the periodic evaluation (``"test/neg_elbo_nats"``: names with a ``/``)."""
    return any("/" in k for k in row)


def last_row(path: paths.Path) -> dict:
    """The last training row of ``metrics.jsonl`` (evaluation rows are skipped)."""
    rows = read_jsonl(path) if path.exists() else []
    rows = [r for r in rows if not is_eval_row(r)]
    return rows[-1] if rows else {}
