"""Train an experiment; rerunning the same command resumes from the workdir's latest checkpoint.

Ctrl-C (or SIGTERM) stops at the end of the current chunk after saving a checkpoint (exit 0); a
second Ctrl-C stops at once without saving (exit 130). See aejax/train/preemption.py.

  python scripts/train.py --config experiments/vae_mnist.py --workdir runs/vae_mnist \
      [--config.elbo.beta=4 --config.train.num_epochs=20 ...]
"""

from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags

from aejax.cli import console_on_first_process_only, experiment_config, run_main

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and outputs.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv: list[str]) -> None:
    del argv
    from aejax.train.preemption import raise_if_stopped
    from aejax.train.sharding import initialize_distributed

    if initialize_distributed():  # AEJAX_MULTIHOST=1: one process per host (launch_tpu.sh)
        console_on_first_process_only()
    from aejax import kinds

    summary = kinds.train(experiment_config(_CONFIG), _WORKDIR.value)  # the config kind's driver
    raise_if_stopped(summary)  # SIGTERM / Ctrl-C: one line on stdout, exit 0
    if summary.get("steps_this_session") == 0:
        print(
            f"{_WORKDIR.value} is already trained to step {summary['step']} (nothing to do; "
            f"{summary['examples_per_s_total']:.0f} examples/s over its sessions)"
        )
        return
    print(
        f"trained to step {summary['step']} in {summary['wall_time_s']:.1f} s "
        f"({summary['examples_per_s']:.0f} examples/s); outputs in {_WORKDIR.value}"
    )


if __name__ == "__main__":
    sys.exit(run_main(app, main))
