"""Wall time of an 8-member sweep with --vmap versus the same runs as separate commands, and
8 fake CPU devices versus 1 (one command; results as JSON).

  python scripts/sweep_benchmark.py --out bench.json [--config experiments/vae_mnist.py]
      [--epochs 1] [--steps 0] [--iwae_k 8] [--num_test 10000]

Every timing is end to end (process start, data, compile, train, evaluate) of real commands:
  vmap:       scripts/sweep.py --sweep elbo.beta=1,2,4,8 --seeds 2 --vmap
  sequential: scripts/train.py then scripts/evaluate.py, for each of the 8 members in turn
  single:     the first member alone (train + evaluate)
Training throughput compares the vmapped group's examples/s (all members) with a single run's.
Devices: scripts/train.py with XLA_FLAGS=--xla_force_host_platform_device_count=8, once with
train.data_parallel=True and once False (same process setup), examples/s of the train loop.
The load average is recorded before and after: on a shared machine the numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
BETAS, SEEDS = (1, 2, 4, 8), 2


def _run(cmd: list[str], env: dict) -> float:
    from aejax.benchmarking import timed_command

    return timed_command(cmd, env, REPO)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--config", default="experiments/vae_mnist.py")
    p.add_argument("--epochs", type=int, default=1, help="train.num_epochs of every member")
    p.add_argument("--steps", type=int, default=0, help="train steps instead of epochs if > 0")
    p.add_argument("--iwae_k", type=int, default=8)
    p.add_argument("--num_test", type=int, default=0, help="0: the whole test split")
    p.add_argument("--device_steps", type=int, default=200)
    args = p.parse_args()

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    env.setdefault("AEJAX_DATA_DIR", str(REPO.parent / "shared" / "data"))
    py = sys.executable
    budget = (
        [f"--config.train.num_steps={args.steps}", "--config.train.num_epochs=0"]
        if args.steps
        else [f"--config.train.num_epochs={args.epochs}"]
    )
    common = [
        f"--config={args.config}",
        *budget,
        "--config.train.progress=False",
        f"--config.data.num_test={args.num_test}",
    ]
    result: dict = {
        "config": args.config,
        "budget": args.steps and f"{args.steps} steps" or f"{args.epochs} epochs",
        "iwae_k": args.iwae_k,
        "members": len(BETAS) * SEEDS,
        "cpu_count": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        sweep = tmp / "sweep"
        result["vmap_wall_s"] = _run(
            [
                py,
                "scripts/sweep.py",
                *common,
                f"--workdir={sweep}",
                "--vmap",
                f"--sweep=elbo.beta={','.join(map(str, BETAS))}",
                f"--seeds={SEEDS}",
                f"--iwae_k={args.iwae_k}",
                "--profile=paper",  # IWAE on the whole test set, as docs/scaling.md states
            ],
            env,
        )
        member = json.loads(next(sweep.glob("*/summary.json")).read_text())
        result["vmap_group_examples_per_s"] = member["group_examples_per_s"]
        result["vmap_compile_s"] = member["compile_s"]
        walls = []
        for beta in BETAS:
            for seed in range(SEEDS):
                wd = tmp / f"seq_{beta}_{seed}"
                member_flags = [f"--config.elbo.beta={beta}", f"--config.seed={seed}"]
                wall = _run(
                    [py, "scripts/train.py", *common, *member_flags, f"--workdir={wd}"], env
                )
                wall += _run(
                    [
                        py,
                        "scripts/evaluate.py",
                        f"--workdir={wd}",
                        f"--iwae_k={args.iwae_k}",
                        # what the sweep computes per member (aejax.sweep.run.evaluate_member)
                        "--profile=paper",
                        "--suite=likelihood",
                        "--progress=false",
                    ],
                    env,
                )
                walls.append(wall)
        first = json.loads((tmp / f"seq_{BETAS[0]}_0" / "summary.json").read_text())
        result["sequential_wall_s"] = sum(walls)
        result["single_wall_s"] = walls[0]
        result["single_examples_per_s"] = first["examples_per_s"]
        result["vmap_over_sequential_wall"] = result["vmap_wall_s"] / result["sequential_wall_s"]
        result["vmap_over_single_throughput"] = (
            result["vmap_group_examples_per_s"] / result["single_examples_per_s"]
        )
        dev_env = dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=8")
        for name, dp in (("one_device", False), ("eight_devices", True)):
            wd = tmp / name
            _run(
                [
                    py,
                    "scripts/train.py",
                    f"--config={args.config}",
                    f"--config.train.num_steps={args.device_steps}",
                    "--config.train.num_epochs=0",
                    "--config.train.progress=False",
                    f"--config.train.data_parallel={dp}",
                    f"--workdir={wd}",
                ],
                dev_env,
            )
            result[f"{name}_examples_per_s"] = json.loads((wd / "summary.json").read_text())[
                "examples_per_s"
            ]
    result["loadavg_after"] = os.getloadavg()
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
