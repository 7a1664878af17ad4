"""ConvLSTM sequence autoencoders on moving_sprites against their baselines: one table.

  python scripts/sequence_table.py --out results/sequence_table --runs runs/sequence [--steps N]

Trains (or resumes) three runs of ``experiments/``: the frame-wise conv autoencoder baseline
(``convlstm_framewise``), the ConvLSTM encoder-forecaster autoencoder (``convlstm_moving_sprites``)
and its VAE variant (``convlstm_moving_sprites:vae``), all on the same generated sequences and
for the same number of steps (the configs' 800 unless ``--steps``). Each ConvLSTM run is
evaluated like ``scripts/evaluate.py --baseline_workdir`` does (aejax.evaluation.sequence):
per-frame squared error and binary cross-entropy of reconstructing the observed frames and of
predicting the future ones, beside copy-the-last-frame and the frame-wise autoencoder. Writes
``OUT.json`` (every number and the settings) and ``OUT.md`` (the table).
"""

from __future__ import annotations

import importlib
import json
import pathlib
import shutil
import sys
import time

from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from aejax.cli import run_main  # noqa: E402

_OUT = flags.DEFINE_string("out", "results/sequence_table", "Output path without extension.")
_RUNS = flags.DEFINE_string("runs", "runs/sequence", "Parent directory of the three workdirs.")
_STEPS = flags.DEFINE_integer("steps", 0, "Training steps of every run (0: the configs').")

RUNS = {  # workdir name -> (experiment module, variant or None)
    "framewise": ("convlstm_framewise", None),
    "convlstm_ae": ("convlstm_moving_sprites", "ae"),
    "convlstm_vae": ("convlstm_moving_sprites", "vae"),
}


def _config(module: str, variant: str | None):
    get = importlib.import_module(f"experiments.{module}").get_config
    c = get() if variant is None else get(variant)
    if _STEPS.value:
        c.train.num_steps = _STEPS.value
    c.train.progress = False
    return c


def _rows(results: dict) -> list[list[str]]:
    def cell(value):
        return "–" if value is None else f"{value:.2f}"

    rows = []
    for name in ("convlstm_ae", "convlstm_vae"):
        r = results[name]["eval"]
        rows.append(
            [
                name,
                cell(r.get("test_convlstm_recon_mse")),
                cell(r.get("test_convlstm_pred_mse")),
                cell(r.get("test_convlstm_recon_bce")),
                cell(r.get("test_convlstm_pred_bce")),
            ]
        )
    r = results["convlstm_ae"]["eval"]  # the baselines do not depend on the ConvLSTM run
    rows.append(
        [
            "frame-wise conv AE (last reconstruction repeated)",
            cell(r.get("test_framewise_recon_mse")),
            cell(r.get("test_framewise_pred_mse")),
            cell(r.get("test_framewise_recon_bce")),
            cell(r.get("test_framewise_pred_bce")),
        ]
    )
    rows.append(
        [
            "copy the last observed frame",
            "–",
            cell(r.get("test_copy_last_pred_mse")),
            "–",
            cell(r.get("test_copy_last_pred_bce")),
        ]
    )
    return rows


def main(argv: list[str]) -> None:
    del argv
    from aejax import build
    from aejax.evaluation import sequence
    from aejax.evaluation.report import Doc
    from aejax.train.loop import train
    from aejax.train.preemption import raise_if_stopped
    from aejax.train.restore import load_trained

    runs = pathlib.Path(_RUNS.value)
    out = pathlib.Path(_OUT.value)
    # A finished run is not retrained; its training time is the one the last table recorded.
    before = (
        json.loads(out.with_suffix(".json").read_text())
        if out.with_suffix(".json").exists()
        else {}
    )
    results: dict = {}
    for name, (module, variant) in RUNS.items():
        config = _config(module, variant)
        start = time.perf_counter()
        summary = train(config, runs / name)
        raise_if_stopped(summary, where=f" of {name}")  # SIGTERM / Ctrl-C: stop the table
        wall = time.perf_counter() - start
        old = before.get(name, {})
        if not summary["steps_this_session"] and old.get("steps") == summary["step"]:
            wall = old["train_wall_time_s"]
        results[name] = {
            "experiment": module + (f":{variant}" if variant else ""),
            "steps": summary["step"],
            "train_wall_time_s": wall,
        }
    for name in ("convlstm_ae", "convlstm_vae"):
        run = load_trained(runs / name)
        test = build.load_data(run.config, "test")
        sequence.evaluate_run(
            run,
            test,
            runs / name,
            batch_size=int(run.config.eval.batch_size),
            baseline_workdir=runs / "framewise",
        )
        results[name]["eval"] = json.loads((runs / name / "eval.json").read_text())
    first = results["convlstm_ae"]["eval"]
    doc = Doc("ConvLSTM sequence autoencoders on moving_sprites")
    doc.para(f"Produced by `python {' '.join(sys.argv)}`.")
    doc.para(
        f"Every run trained {results['convlstm_ae']['steps']} steps (configs in experiments/); "
        f"{first['num_test']} test sequences of {first['num_frames']} frames, the first "
        f"{first['context_frames']} observed, the rest predicted. Errors per frame, summed over "
        "its pixels and averaged over sequences: squared error (MSE column) and binary "
        "cross-entropy in nats (BCE column); recon = observed frames, pred = predicted frames."
    )
    doc.table(["predictor", "recon MSE", "pred MSE", "recon BCE", "pred BCE"], _rows(results))
    doc.table(
        ["run", "experiment", "steps", "train + data wall s"],
        [
            [n, r["experiment"], r["steps"], f"{r['train_wall_time_s']:.0f}"]
            for n, r in results.items()
        ],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in ("convlstm_ae", "convlstm_vae"):  # the strips travel with the table
        strip = out.parent / f"{out.name}_{name}_strip.png"
        shutil.copyfile(runs / name / "sequence_strip.png", strip)
        doc.image(strip, f"{name}: true frames, then each predictor (first 5 observed)")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(doc.markdown(out.parent))
    print(f"wrote {out}.md and {out}.json")


if __name__ == "__main__":
    sys.exit(run_main(app, main))
