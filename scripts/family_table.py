"""Trains and evaluates the model family at one budget and writes the results table.

  python scripts/family_table.py --out RESULTS.md --runs runs/family --epochs 10 --iwae_k 5000

Every row is an experiment config from ``experiments/`` plus overrides; all rows share the
budget given here (epochs, batch size of the config, test examples, IWAE samples). A row whose
workdir already holds a finished run and a ``family.json`` for the same evaluation settings is
not redone, so the command can be rerun after adding rows. ``--rows a,b`` limits the work to
some rows; the table always lists every row that has results.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
import time

import jax
from absl import app, flags

from aejax.cli import run_main
from experiments.family import EXPECTATIONS, PUBLISHED, ROWS

_OUT = flags.DEFINE_string("out", "RESULTS.md", "Markdown file to write.")
_RUNS = flags.DEFINE_string("runs", "runs/family", "Parent directory of the rows' workdirs.")
_EPOCHS = flags.DEFINE_integer("epochs", 10, "Training epochs for every row.")
_STEPS = flags.DEFINE_integer("steps", 0, "Training steps for every row instead (smoke runs).")
_IWAE_K = flags.DEFINE_integer("iwae_k", 5000, "Importance samples for the test NLL.")
_NUM_TEST = flags.DEFINE_integer("num_test", 10000, "Test images evaluated (first N).")
_ROWS = flags.DEFINE_list("rows", None, "Only these rows (default: all).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Progress bars.")


def _config(row: dict):
    module = importlib.import_module(f"experiments.{row['experiment']}")
    config = module.get_config()
    for key, value in row.get("overrides", {}).items():
        target = config
        *parents, leaf = key.split(".")
        for p in parents:
            target = target[p]
        target[leaf] = value
    config.train.num_steps = _STEPS.value
    config.train.num_epochs = 0 if _STEPS.value else _EPOCHS.value
    config.train.progress = _PROGRESS.value
    return config


def _settings() -> dict:
    return {
        "epochs": _EPOCHS.value,
        "steps": _STEPS.value,
        "iwae_k": _IWAE_K.value,
        "num_test": _NUM_TEST.value,
    }


def run_row(name: str, row: dict, runs: pathlib.Path) -> dict:
    """Trains (or resumes) and evaluates one row; returns its ``family.json`` content."""
    from aejax.evaluation import family
    from aejax.train.loop import train
    from aejax.train.preemption import raise_if_stopped

    workdir = runs / name
    cached = workdir / "family.json"
    if cached.exists():
        result = json.loads(cached.read_text())
        if result.get("settings") == _settings():
            return result
    config = _config(row)
    start = time.perf_counter()
    summary = train(config, workdir)
    raise_if_stopped(summary, where=f" of {name}")  # SIGTERM / Ctrl-C: saved; stop the table
    train_wall = summary["wall_time_s"] if summary.get("resumed_from_step") is None else None
    result = family.evaluate_row(
        workdir,
        kind=row.get("kind", "vae"),
        iwae_k=_IWAE_K.value,
        num_test=_NUM_TEST.value,
        progress=_PROGRESS.value,
    )
    result.update(
        settings=_settings(),
        train_wall_time_s=train_wall,
        examples_per_s=summary["examples_per_s"],
        total_wall_time_s=time.perf_counter() - start,
        device=jax.devices()[0].device_kind,
    )
    cached.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str]) -> None:
    del argv
    from aejax.evaluation import family

    runs = pathlib.Path(_RUNS.value)
    chosen = _ROWS.value or list(ROWS)
    unknown = sorted(set(chosen) - set(ROWS))
    if unknown:
        raise SystemExit(f"error: unknown rows {unknown}; choose from {', '.join(ROWS)}")
    for name in chosen:
        print(f"== {name}", flush=True)
        result = run_row(name, ROWS[name], runs)
        print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}))
    results = {}
    for name in ROWS:
        path = runs / name / "family.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
    text = family.render_table(ROWS, results, PUBLISHED, EXPECTATIONS, command=" ".join(sys.argv))
    pathlib.Path(_OUT.value).write_text(text)
    print(f"wrote {_OUT.value} ({len(results)} rows)")


if __name__ == "__main__":
    sys.exit(run_main(app, main))
