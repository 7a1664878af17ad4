"""Wall time of a study's method trained as one vmapped group against its members trained as
separate commands (the study's "vmapped vs separate" figure).

  AEJAX_DATA_DIR=../shared/data python scripts/study_benchmark.py \
      --out docs/study_benchmark_cpu.json [--config experiments/study_locatello.py:cpu]
      [--method beta_vae] [--num_values 3] [--seeds 2]

vmapped: ``scripts/study.py`` on that method's first ``--num_values`` values x ``--seeds`` seeds
(end to end: process start, data, compilation, training, scoring every member). separate:
``scripts/train.py`` once per member with the same config and the member's keys, one after the
other (end to end each). Scoring is the same work either way (one call per member), so the
figure that compares like with like is training: the vmapped group's training and compilation
(from the study's own record) against the separate commands' summed wall time; the report has
both, and the end-to-end times.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def _run(cmd: list[str], env: dict) -> float:
    from aejax.benchmarking import timed_command

    return timed_command(cmd, env, REPO)


def _flag(key: str, value) -> str:
    return f"--config.{key}={value}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--config", default="experiments/study_locatello.py:cpu")
    p.add_argument("--method", default="beta_vae")
    p.add_argument("--num_values", type=int, default=3)
    p.add_argument("--seeds", type=int, default=2)
    args = p.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    py = sys.executable
    path, _, variant = args.config.partition(":")
    spec = importlib.util.spec_from_file_location("study_config", REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config(variant or None)
    config.study.methods, config.study.num_values = (args.method,), args.num_values
    points = module.study_points(config)[args.method]
    study_flags = [
        _flag("study.methods", f"('{args.method}',)"),
        _flag("study.num_values", args.num_values),
        _flag("study.seeds", args.seeds),
    ]
    result: dict = {
        "config": args.config,
        "method": args.method,
        "values": [v for v, _ in points],
        "seeds": args.seeds,
        "members": len(points) * args.seeds,
        "steps": int(config.train.num_steps),
        "cpu_count": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        workdir = tmp / "study"
        study = [py, "scripts/study.py", f"--config={args.config}", *study_flags]
        study += [f"--workdir={workdir}", "--progress=false"]
        result["vmapped_end_to_end_s"] = _run(study, env)
        info = json.loads((workdir / "study_runs.jsonl").read_text().splitlines()[-1])
        result["vmapped_groups"] = info["groups"]
        result["vmapped_train_s"] = sum(info["group_train_s"])
        result["vmapped_compile_s"] = sum(c or 0.0 for c in info["group_compile_s"])
        result["vmapped_scoring_s"] = sum(info["group_eval_s"])
        walls = []
        for value, overrides in points:
            for seed in range(int(config.seed), int(config.seed) + args.seeds):
                member = [_flag(k, v) for k, v in overrides.items()] + [_flag("seed", seed)]
                wd = tmp / f"separate_{value:g}_{seed}"
                cmd = [py, "scripts/train.py", f"--config={args.config}", *member]
                walls.append(_run([*cmd, f"--workdir={wd}"], env))
        result["separate_train_s"] = walls
        result["separate_train_total_s"] = sum(walls)
    vmapped_train = result["vmapped_train_s"] + result["vmapped_compile_s"]
    result["training_separate_over_vmapped"] = result["separate_train_total_s"] / vmapped_train
    result["loadavg_after"] = os.getloadavg()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['members']} members of {args.method}: vmapped training "
        f"{vmapped_train:.1f} s (compile {result['vmapped_compile_s']:.1f} s), separate "
        f"commands {result['separate_train_total_s']:.1f} s: "
        f"{result['training_separate_over_vmapped']:.2f}x; the vmapped study end to end "
        f"{result['vmapped_end_to_end_s']:.1f} s (scoring {result['vmapped_scoring_s']:.1f} s)"
    )


if __name__ == "__main__":
    main()
