"""Run a disentanglement study: every method's hyperparameter grid x seeds, one vmapped group per
method, each member scored with the six metrics on both representations plus the unsupervised
scores; then study.csv, the figures and study.md/html (see aejax.sweep.study).

  python scripts/study.py --config experiments/study_locatello.py:cpu --workdir runs/study_cpu
  python scripts/study.py --config experiments/study_locatello.py --workdir gs://b/study \
      --shard 0/4        # this machine's quarter of the methods; the others run 1/4, 2/4, 3/4

A rerun skips finished members. The study's config file names its grid (``study_points``) and
its settings (``config.study``: methods, seeds, protocol, sample sizes); override them like any
key, e.g. ``--config.study.methods=beta_vae,factor_vae --config.study.seeds=1``.
"""

from __future__ import annotations

import importlib.util
import json
import sys

from absl import app, flags
from ml_collections import config_flags

from aejax.cli import experiment_config, run_main

_CONFIG = config_flags.DEFINE_config_file("config", None, "Study config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "The study's directory (a bucket works too).")
_SHARD = flags.DEFINE_string("shard", "0/1", "i/n: run every n-th method from the i-th.")
_PROGRESS = flags.DEFINE_bool("progress", True, "Progress with ETA over the groups on stderr.")
flags.mark_flags_as_required(["config", "workdir"])


def _study_module():
    """The config file as a module (its ``study_points``)."""
    path = config_flags.get_config_filename(flags.FLAGS["config"]).split(":")[0]
    spec = importlib.util.spec_from_file_location("study_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> None:
    del argv
    from aejax.errors import ConfigError
    from aejax.evaluation.disentanglement import get_protocol
    from aejax.sweep.study import run_study

    config = experiment_config(_CONFIG)
    i, _, n = _SHARD.value.partition("/")
    if not (i.isdigit() and n.isdigit()):
        raise ConfigError(f"--shard {_SHARD.value!r}: expected i/n, e.g. 0/4")
    s = config.study
    protocol = get_protocol(s.protocol, num_train=s.num_train, num_test=s.num_test)
    module = _study_module()
    info = run_study(
        config,
        module.study_points(config),
        int(s.seeds),
        _WORKDIR.value,
        base_seed=int(config.seed),
        weaker=[m for m in s.methods if module.weaker_with_value(m)],
        protocol=protocol,
        shard=(int(i), int(n)),
        progress=_PROGRESS.value,
    )
    print(json.dumps({k: v for k, v in info.items() if k != "trained"}))
    where = f"{_WORKDIR.value}/study.md" if info["report"] else "(after every shard has run)"
    print(f"trained {len(info['trained'])} members in {info['wall_time_s']:.0f} s; report {where}")


if __name__ == "__main__":
    sys.exit(run_main(app, main))
