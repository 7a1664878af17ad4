"""Run an ablation sweep: the product of swept values and seeds, each member trained and
evaluated, then aggregated into ``DIR/sweep.csv``, ``DIR/sweep.md`` and ``DIR/sweep_plots.png``.

  python scripts/sweep.py --config experiments/vae_mnist.py --workdir runs/beta \
      --sweep 'elbo.beta=1,2,4,8' --seeds 5 [--vmap] [--profile quick|paper] [--iwae_k 100] \
      [--config.KEY=VALUE ...]

``--config.KEY=VALUE`` overrides apply to every member, as in ``scripts/train.py`` (a given
``train.num_steps`` replaces the config's ``train.num_epochs`` and vice versa; so does a swept
one). Members are evaluated with ``--profile`` (default ``quick``: IWAE with K = min(100,
eval.iwae_k) on the first 1000 test images, the negative ELBO on all; ``paper``: K = eval.iwae_k
on every test image); each member's ``eval.json`` records the profile. With
``--vmap`` the members that differ only in step hyperparameters (weights such as ``elbo.beta``,
learning rates) and seed are trained together as one compiled program; members that differ in
shape (latent size, architecture) form one vmapped group per shape. Members are in
``DIR/<key>=<value>_..._seed=<s>/`` (train.py workdirs plus eval.json); rerunning the command
skips members that are already done.

While it runs: a progress bar over members (with ETA) on stderr and, as each group finishes, one
line with its members, steps, wall times and examples/s, labelled aggregate (all members
together: the sweep's speed) and per member (aggregate / members).
"""

from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags

from aejax.cli import experiment_config, run_main

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of the sweep.")
_SWEEP = flags.DEFINE_multi_string(
    "sweep", [], "KEY=V1,V2,... (repeatable; the grid is the product)."
)
_SEEDS = flags.DEFINE_integer("seeds", 1, "Seeds per grid point: config.seed, config.seed + 1, ...")
_VMAP = flags.DEFINE_bool("vmap", False, "Train members that share shapes as one vmapped program.")
_PROFILE = flags.DEFINE_enum(
    "profile",
    "quick",
    ["quick", "paper"],
    "Evaluation profile of every member (see scripts/evaluate.py): quick = IWAE with "
    "K = min(100, eval.iwae_k) on the first 1000 test images, -ELBO on all; paper = "
    "K = eval.iwae_k on every test image.",
)
_IWAE_K = flags.DEFINE_integer(
    "iwae_k", None, "Importance samples for evaluation (default: the profile's)."
)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv: list[str]) -> None:
    del argv
    from aejax.sweep.run import run_sweep

    info = run_sweep(
        experiment_config(_CONFIG),
        _SWEEP.value,
        _SEEDS.value,
        _WORKDIR.value,
        use_vmap=_VMAP.value,
        iwae_k=_IWAE_K.value,
        progress=True,
        profile=_PROFILE.value,
    )
    stats = info["group_stats"]
    train_s = sum(g["train_s"] for g in stats)
    examples = sum(g["examples"] * len(g["names"]) for g in stats)
    speed = f"; training {examples / train_s:,.0f} examples/s aggregate" if train_s > 0 else ""
    print(
        f"{len(info['members'])} members in {info['wall_time_s']:.1f} s wall "
        f"({len(stats) or 'no'} group{'' if len(stats) == 1 else 's'} run"
        f"{', all members were done already' if not stats else ''}"
        f"{speed}); see {_WORKDIR.value}/sweep.md and sweep.html"
    )


if __name__ == "__main__":
    sys.exit(run_main(app, main))
