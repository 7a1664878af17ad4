"""Write the report of a run, or a side-by-side report of several runs.

  python scripts/report.py --workdir runs/demo
      -> runs/demo/report.md and runs/demo/report.html (images embedded, self-contained)
  python scripts/report.py --compare runs/a runs/b [--out runs/compare]
      -> OUT/report.md and OUT/report.html, one column per run (OUT defaults to ./comparison)

A run report starts with any warning (no evaluation, or an evaluation of an older checkpoint
than the newest) and the headline metrics with units and definitions, then the training curves,
KL per latent dimension and every evaluation plot with a caption; raw tables, hashes and the
config come last, collapsed. A comparison starts with the config keys that differ, then the
headline metrics side by side with the better value marked. A missing or empty workdir is an
error (exit status 2).
"""

from __future__ import annotations

import sys

from absl import app, flags

from aejax.cli import run_main

_WORKDIR = flags.DEFINE_string("workdir", None, "Run to report on.")
_COMPARE = flags.DEFINE_multi_string(
    "compare", None, "Runs to compare (repeat the flag or list them after --compare)."
)
_OUT = flags.DEFINE_string("out", "comparison", "Output directory of a comparison report.")


def main(argv: list[str]) -> None:
    from aejax import paths
    from aejax.errors import ConfigError
    from aejax.evaluation import report

    # `--compare A B C`: absl keeps the first after the flag and passes the rest as arguments.
    compare = list(_COMPARE.value or []) + (list(argv[1:]) if _COMPARE.value else [])
    if bool(_WORKDIR.value) == bool(compare):
        raise ConfigError("give exactly one of --workdir DIR or --compare DIR1 DIR2 ...")
    if _WORKDIR.value and argv[1:]:
        raise ConfigError(f"unexpected arguments {argv[1:]}; use --compare to compare runs")
    if _WORKDIR.value:
        run = report.load_run(_WORKDIR.value)
        written = report.write(report.single_report(run), run.workdir)
    else:
        if len(compare) < 2:
            raise ConfigError(f"--compare needs at least two workdirs, got {compare}")
        dirs = [paths.resolve(d) for d in compare]
        names = [d.name for d in dirs]
        if len(set(names)) < len(names):  # same leaf name twice: use the full paths
            names = [str(d) for d in dirs]
        runs = [report.load_run(d, n) for d, n in zip(dirs, names, strict=True)]
        out = paths.resolve(_OUT.value)
        written = report.write(report.compare_report(runs, out), out)
    for p in written:
        print(f"wrote {p}")


if __name__ == "__main__":
    sys.exit(run_main(app, main))
