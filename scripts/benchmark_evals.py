"""The training-throughput cost of periodic evaluation (``config.evals``) on an experiment.

  AEJAX_DATA_DIR=../shared/data python scripts/benchmark_evals.py --out runs/bench_evals.json \
      [--config experiments/vae_mnist.py] [--epochs 2] [--repeats 2]

Trains the experiment ``--repeats`` times with ``--config.evals.periodic=""`` and with the
config's own ``evals`` (by default the likelihood part once per epoch), alternating, each in a
fresh process and workdir, and reports per run the examples/s of ``summary.json`` (training
wall time including the evaluations), the evaluation time the loop measured and the process's
CPU seconds; then the relative cost ``1 - eps_with / eps_without`` of the medians over the whole
run, and apart the cost per epoch once the first evaluation has loaded its split and compiled
its programs (a later evaluation against an epoch without evaluation) and that one-time cost in
seconds: the first is what a short run pays, the second what a long one pays. Timings on a
shared machine are noisy: compare CPU seconds too, and repeat when the pairs disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def _train(config: str, epochs: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="aejax-bench-evals-") as workdir:
        cmd = [
            sys.executable,
            str(REPO / "scripts" / "train.py"),
            f"--config={config}",
            f"--workdir={workdir}",
            f"--config.train.num_epochs={epochs}",
            "--config.train.progress=false",
            *extra,
        ]
        start = time.perf_counter()
        before = os.times()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        }
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        after = os.times()
        summary = json.loads(pathlib.Path(workdir, "summary.json").read_text())
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {
        "examples_per_s": summary["examples_per_s"],
        "train_wall_s": summary["wall_time_s"],
        "evaluations": summary["evaluations"],
        "evaluation_time_s": summary["evaluation_time_s"],
        "first_evaluation_time_s": summary["first_evaluation_time_s"],
        "process_wall_s": time.perf_counter() - start,
        "process_cpu_s": cpu,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--config", default=str(REPO / "experiments" / "vae_mnist.py"))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for i in range(args.repeats):
        for name, extra in (("without", ["--config.evals.periodic="]), ("with", [])):
            runs[name].append(_train(args.config, args.epochs, extra))
            r = runs[name][-1]
            print(
                f"{i} {name:7s}: {r['examples_per_s']:8.0f} ex/s, train {r['train_wall_s']:.1f} s "
                f"(eval {r['evaluation_time_s']:.1f} s in {r['evaluations']}), "
                f"{r['process_cpu_s']:.1f} CPU s",
                flush=True,
            )
    med = {k: statistics.median(r["examples_per_s"] for r in v) for k, v in runs.items()}
    # Per epoch once the first evaluation has loaded its split and compiled its programs: a
    # later evaluation's seconds against an epoch of training without evaluation.
    later = statistics.median(
        (r["evaluation_time_s"] - r["first_evaluation_time_s"]) / (r["evaluations"] - 1)
        for r in runs["with"]
    )
    epoch_s = statistics.median(r["train_wall_s"] for r in runs["without"]) / args.epochs
    once = statistics.median(r["first_evaluation_time_s"] for r in runs["with"]) - later
    cpu = {k: statistics.median(r["process_cpu_s"] for r in v) for k, v in runs.items()}
    report = {
        "config": args.config,
        "epochs": args.epochs,
        "runs": runs,
        "median_examples_per_s": med,
        "relative_cost": 1 - med["with"] / med["without"],
        "relative_cpu_cost": cpu["with"] / cpu["without"] - 1,
        "later_evaluation_s": later,
        "epoch_s_without": epoch_s,
        "per_epoch_cost": later / (epoch_s + later),
        "one_time_s": once,
        "eval_fraction_of_train_wall": statistics.median(
            r["evaluation_time_s"] / r["train_wall_s"] for r in runs["with"]
        ),
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"cost of periodic evaluation over the whole run: {report['relative_cost']:.1%} of "
        f"examples/s ({report['relative_cpu_cost']:.1%} CPU; evaluation "
        f"{report['eval_fraction_of_train_wall']:.1%} of training wall time)\n"
        f"per epoch after the first evaluation: {report['per_epoch_cost']:.1%} "
        f"({later:.3f} s per evaluation against {epoch_s:.2f} s per epoch); once per run: "
        f"{once:.2f} s (loading the split, compiling the programs)"
    )


if __name__ == "__main__":
    main()
