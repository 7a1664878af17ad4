"""Records and checks the hashes of fixed training runs, so that a redesign can show that it leaves
results bitwise unchanged (issue 16, "Same results, bitwise").

  python scripts/check_hashes.py --record   # run every case, store this machine's hashes
  python scripts/check_hashes.py [--check]  # rerun this machine's command lines, compare hashes
      [--only vae_mnist,vgae_cora] [--workdir DIR] [--repo CHECKOUT]

A case is one command line (``scripts/train.py`` or ``scripts/sweep.py``) that trains 300 steps
and sets every leaf of its experiment's flattened config with ``--config.KEY=VALUE``, so that a
later change of a default in ``aejax/defaults.py`` or ``aejax/build/`` cannot silently change
the run. ``--record`` builds the command lines from ``experiments/*.py`` as they are now, checks
that the ``config.json`` each run writes is the intended config, and stores each argument list
with the ``params_sha256`` of the trained parameters. ``--check`` replays the stored argument
lists, not the current config files (the redesign changes those), prints one line per case,
``same`` or ``DIFFERENT (expected X, got Y)``, and exits 1 if a hash differs or a command fails.

Hashes are bitwise, and XLA compiles for the host's instruction set, so the JSON holds one record
per machine, keyed by its CPU signature (model name, family, model, SIMD extensions) and jax
version (:func:`machine_key`). ``--record`` replaces the current machine's record and keeps the
others; ``--check`` compares against the current machine's record and refuses, in one line, when
there is none. On a new machine, record at the pre-redesign commit first, from a worktree of it:
``--record --repo DIR`` runs that checkout's scripts, experiments and aejax, and stores the record
in this checkout's JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
# This checkout's aejax and experiments/, whichever aejax is installed (--repo puts another
# checkout in front).
sys.path.insert(0, str(REPO))

HASHES = REPO / "docs" / "redesign_hashes.json"
WORKDIR = "{workdir}"  # replaced by the case's temporary workdir when a command runs
STEPS = 300
# The scripts the cases run (uncommitted changes to these or to aejax/ are noted in the record).
TRAIN_SCRIPTS = ("scripts/train.py", "scripts/sweep.py")
# Every case trains STEPS steps, with no progress bar (stderr stays readable).
RUN_LENGTH = (("train.num_steps", STEPS), ("train.num_epochs", 0), ("train.progress", False))
ABOUT = (
    "params_sha256 (sha256 over every parameter leaf's bytes, in tree order) of fixed training "
    f"runs of {STEPS} steps, recorded before the architecture redesign (issue 16). Each case is "
    "an explicit command line that sets every config key of its experiment as it was then, so "
    "changed defaults cannot change the run. `python scripts/check_hashes.py --check` reruns "
    "these exact command lines and prints `same` or `DIFFERENT` per case (exit status 1 if any "
    "differs): all `same` proves that the code still trains these models to bitwise the same "
    "parameters. Hashes are bitwise, so each record under `machines` holds for the CPU signature "
    "and jax version of its key (`recorded` says more about it); --check uses the current "
    "machine's record. On another machine, first run --record at the pre-redesign commit."
)
# The CPU facts that decide what XLA compiles (besides the jax version), in a machine's key.
SIGNATURE = ("model name", "cpu family", "model", "simd")


@dataclasses.dataclass(frozen=True)
class Case:
    """What a case runs: ``experiments/<experiment>.py`` through ``script``."""

    experiment: str
    kind: str = "train"  # "train" | "sweep" | "graph": where the hashes are read from
    script: str = "scripts/train.py"
    args: tuple[str, ...] = ()  # script flags besides --config and --workdir
    settings: tuple[tuple[str, object], ...] = ()  # config changes besides RUN_LENGTH


CASES = {
    "vae_mnist": Case("vae_mnist"),
    "factor_vae_mnist": Case("factor_vae_mnist"),
    "m2_mnist": Case("m2_mnist"),
    "ladder_mnist": Case("ladder_mnist"),
    "iwae_mnist": Case("iwae_mnist"),
    "conv_vae": Case("conv_vae"),
    # 4 members (beta 1 and 4, seeds 0 and 1) trained as one vmapped program; --iwae_k 0 makes
    # the members' evaluation the cheapest (ELBO only): the trained parameters are what counts.
    "sweep_vae_mnist": Case(
        "vae_mnist",
        kind="sweep",
        script="scripts/sweep.py",
        args=("--sweep", "objective.beta=1,4", "--seeds", "2", "--vmap", "--iwae_k", "0"),
    ),
    # One run (seed 0, its own edge split) of the full-batch graph trainer: one step per epoch.
    "vgae_cora": Case("vgae_cora", kind="graph", settings=(("graph.num_runs", 1),)),
}


def flat_config(tree: dict, prefix: str = "") -> dict:
    """``{"a": {"b": [1]}}`` -> ``{"a.b": (1,)}`` (kept here rather than imported from aejax, so
    that the check runs whatever the redesign moves)."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(flat_config(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


def format_value(value) -> str:
    """A config value as ml_collections parses it back from ``--config.KEY=VALUE``.

    Strings go as they are (absl's string parser), tuples as Python literals (``(500,)``,
    ``()``), floats by ``repr`` (round-trips exactly), bools as ``True``/``False``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return repr(tuple(value))
    if isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"no command-line form for {value!r} ({type(value).__name__})")


def case_config(case: Case):
    """The experiment's config as its file defines it today, with the case's settings."""
    config = importlib.import_module(f"experiments.{case.experiment}").get_config()
    for key, value in (*RUN_LENGTH, *case.settings):
        *parents, leaf = key.split(".")
        target = config
        for p in parents:
            target = target[p]
        if leaf not in target:
            raise KeyError(f"{case.experiment}: no config key {key}")
        target[leaf] = value
    return config


def config_overrides(config) -> tuple[list[str], dict]:
    """``--config.KEY=VALUE`` for every leaf of ``config``, and the leaves that have no
    command-line form (``None``: a str field's parser would read ``None`` as the string)."""
    flat = flat_config(json.loads(config.to_json_best_effort()))
    args, unset = [], {}
    for key, value in sorted(flat.items()):
        if value is None:
            unset[key] = None
        else:
            args.append(f"--config.{key}={format_value(value)}")
    return args, unset


def build_entry(name: str) -> dict:
    """A case's recorded form: kind, argument list (with ``{workdir}``) and unset keys."""
    case = CASES[name]
    overrides, unset = config_overrides(case_config(case))
    argv = [
        case.script,
        "--config",
        f"experiments/{case.experiment}.py",
        "--workdir",
        WORKDIR,
        *case.args,
        *overrides,
    ]
    return {"kind": case.kind, "argv": argv, "unset_keys": unset}


def expected_config(entry: dict) -> dict:
    """``{key: value as text}`` that the entry's command line asks for."""
    expected = {k: "None" for k in entry["unset_keys"]}  # all None: no command-line form
    for arg in entry["argv"]:
        if arg.startswith("--config."):
            key, _, value = arg[len("--config.") :].partition("=")
            expected[key] = value
    return expected


def config_differences(entry: dict, written: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    """How a run's ``config.json`` (loaded) differs from what the entry's command line asks."""
    expected = expected_config(entry)
    actual = {k: "None" if v is None else format_value(v) for k, v in flat_config(written).items()}
    out = []
    for key in sorted(set(expected) | set(actual)):
        if key in ignore or expected.get(key) == actual.get(key):
            continue
        out.append(f"{key}: asked {expected.get(key, 'absent')}, got {actual.get(key, 'absent')}")
    return out


def swept_keys(argv: list[str]) -> tuple[str, ...]:
    """The keys a sweep command line varies (``--sweep KEY=V1,V2``)."""
    return tuple(argv[i + 1].partition("=")[0] for i, a in enumerate(argv[:-1]) if a == "--sweep")


def compare(expected: dict, got: dict) -> str:
    """``same``, or ``DIFFERENT (expected X, got Y)`` naming each differing hash."""
    bad = [k for k in sorted(set(expected) | set(got)) if expected.get(k) != got.get(k)]
    if not bad:
        return "same"
    if len(expected) == 1 and len(got) <= 1 and bad == list(expected):
        (key,) = bad
        return f"DIFFERENT (expected {expected[key]}, got {got.get(key)})"
    parts = [f"{k}: expected {expected.get(k)}, got {got.get(k)}" for k in bad]
    return f"DIFFERENT ({'; '.join(parts)})"


class CaseFailed(Exception):
    pass


def _env(code: pathlib.Path = REPO) -> dict:
    """The runs' environment: ``code`` (the checkout that runs) first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH")) if p)
    shared = code.parent / "shared" / "data"
    if shared.exists():
        env.setdefault("AEJAX_DATA_DIR", str(shared))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_entry(name: str, entry: dict, root: pathlib.Path, code: pathlib.Path = REPO) -> dict:
    """Runs one recorded command line of checkout ``code`` in ``root/<name>``; returns its hashes,
    wall time and the differences of the written config from the asked one."""
    workdir = root / name
    argv = [a.replace(WORKDIR, str(workdir)) for a in entry["argv"]]
    log = root / f"{name}.log"
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, *argv], cwd=code, env=_env(code), stdout=out, stderr=subprocess.STDOUT
        )
    wall = time.perf_counter() - t0
    if proc.returncode:
        tail = log.read_text().strip().splitlines()[-5:]
        raise CaseFailed(f"exit status {proc.returncode}: " + " | ".join(tail))
    try:
        result = _read_results(entry, workdir, argv)
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise CaseFailed(f"the run's outputs are not as expected ({e!r}); see {log}") from None
    return {"wall_time_s": round(wall, 1), **result}


def _read_results(entry: dict, workdir: pathlib.Path, argv: list[str]) -> dict:
    """Hashes from the run's ``summary.json`` (each sweep member's), and config differences."""
    hashes, summaries, differences = {}, [], []
    if entry["kind"] == "sweep":
        for member in json.loads((workdir / "sweep.json").read_text())["members"]:
            summary = json.loads((workdir / member / "summary.json").read_text())
            hashes[member] = summary["params_sha256"]
            summaries.append(summary)
            written = json.loads((workdir / member / "config.json").read_text())
            # Each member sets its swept values and seed; the rest is the command line's.
            notes = config_differences(entry, written, ignore=("seed", *swept_keys(argv)))
            differences += [f"{member}: {d}" for d in notes]
    else:
        summary = json.loads((workdir / "summary.json").read_text())
        summaries.append(summary)
        if entry["kind"] == "graph":
            runs = summary["params_sha256"]
            for r, h in enumerate([runs] if isinstance(runs, str) else runs):
                hashes[f"run {r}"] = h
                if _graph_params_sha256(workdir, r) != h:
                    raise CaseFailed(f"runs/{r}/params.msgpack does not hash to summary's {h}")
        else:
            hashes["params"] = summary["params_sha256"]
        differences = config_differences(entry, json.loads((workdir / "config.json").read_text()))
    return {
        "hashes": hashes,
        "train_wall_time_s": round(max(s.get("wall_time_s") or 0.0 for s in summaries), 1),
        "config_differences": differences,
    }


def _graph_params_sha256(workdir: pathlib.Path, run: int) -> str:
    """The graph trainer's saved parameters of ``run``, hashed as the trainer hashes them."""
    from flax import serialization

    from aejax.train.state import params_sha256

    data = (workdir / "runs" / str(run) / "params.msgpack").read_bytes()
    return params_sha256(serialization.msgpack_restore(data))


def cpu_description() -> dict:
    """Model name, family/model/stepping and SIMD extensions (XLA compiles for the host's ISA,
    and a VM's model name may say only "AMD EPYC") from the first CPU in ``/proc/cpuinfo``."""
    path = pathlib.Path("/proc/cpuinfo")
    if not path.exists():
        return {"model name": platform.processor()}
    first: dict[str, str] = {}
    for line in path.read_text().split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    simd = [f for f in first.get("flags", "").split() if f.startswith(("avx", "fma", "amx"))]
    out = {k: first.get(k, "") for k in ("model name", "cpu family", "model", "stepping")}
    out["simd"] = " ".join(simd)
    return out


def machine(code: pathlib.Path = REPO) -> dict:
    """CPU model, library versions, devices (queried in a child: the parent never holds a device
    the runs need) and the commit of checkout ``code``, whose scripts run."""
    import flax
    import jax
    import jaxlib
    import numpy
    import optax

    cpu = cpu_description()
    devices = subprocess.run(
        [sys.executable, "-c", "import jax; print(jax.devices())"],
        env=_env(code),
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "aejax", "experiments", *TRAIN_SCRIPTS],
        cwd=code,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "numpy": numpy.__version__,
        "devices": devices,
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "AEJAX_DATA_DIR": _env(code).get("AEJAX_DATA_DIR", ""),
    }


def machine_key(recorded: dict) -> str:
    """The key of a record in ``machines``, from its ``recorded`` facts: the CPU signature (model
    name, family, model, SIMD extensions) and the jax version, e.g. ``AMD EPYC, family 25 model
    1, simd fma avx avx2, jax 0.10.2``."""
    cpu = {k: recorded.get("cpu", {}).get(k, "?") for k in SIGNATURE}
    return (
        f"{cpu['model name']}, family {cpu['cpu family']} model {cpu['model']}, "
        f"simd {cpu['simd'] or 'none'}, jax {recorded.get('jax', '?')}"
    )


def machine_records(stored: dict | None) -> dict:
    """``{machine key: {"recorded": ..., "cases": ...}}`` from the JSON, including a file of the
    one-machine form written before there were several (``recorded`` and ``cases`` at the top)."""
    if not stored:
        return {}
    if "machines" in stored:
        return dict(stored["machines"])
    return {
        machine_key(stored["recorded"]): {"recorded": stored["recorded"], "cases": stored["cases"]}
    }


def _select(only: str | None, names) -> list[str]:
    names = list(names)
    if not only:
        return names
    chosen = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in names]
    if unknown:
        sys.exit(f"error: unknown case(s) {', '.join(unknown)}; cases: {', '.join(names)}")
    return chosen


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--record", action="store_true", help=f"run every case, write {HASHES}")
    mode.add_argument("--check", action="store_true", help="rerun and compare (the default)")
    p.add_argument("--only", help="comma-separated case names (default: all)")
    p.add_argument("--workdir", help="parent of the runs' workdirs (default: a temporary one)")
    p.add_argument("--hashes", default=str(HASHES), help="the JSON file of recorded hashes")
    p.add_argument(
        "--repo",
        default=str(REPO),
        help="the checkout whose scripts, experiments and aejax run (default: this one); record "
        "at the pre-redesign commit with a worktree of it",
    )
    args = p.parse_args()

    code = pathlib.Path(args.repo).resolve()
    if code != REPO:
        sys.path.insert(0, str(code))  # its experiments/ (and aejax) build the command lines
    path = pathlib.Path(args.hashes)
    records = machine_records(json.loads(path.read_text()) if path.exists() else None)
    info = machine(code)
    key = machine_key(info)
    if args.record:
        names = _select(args.only, CASES)
        entries = {n: build_entry(n) for n in names}
    else:
        if key not in records:
            sys.exit(
                f"error: {path} holds no hashes for this machine ({key}); record them at the "
                "pre-redesign commit with --record (see docs/redesign_hashes.md)"
            )
        recorded = records[key]
        names = _select(args.only, recorded["cases"])
        entries = {n: recorded["cases"][n] for n in names}

    root = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="check_hashes_"))
    root.mkdir(parents=True, exist_ok=True)
    taken = [n for n in names if (root / n).exists()]
    if taken:  # a run would resume there and train nothing: the check would prove nothing
        sys.exit(f"error: {', '.join(str(root / n) for n in taken)} exist; use a fresh --workdir")

    load_start = os.getloadavg()[0]  # the wall times mean little on a busy machine
    if not args.record:
        was = recorded["recorded"]
        for fact in ("cpu", "cpu_count", "jaxlib", "devices", "XLA_FLAGS"):
            if was.get(fact) != info[fact]:
                print(f"note: recorded with {fact} {was.get(fact)!r}, here {info[fact]!r}")
    failed = 0
    results = {}
    try:
        for name in names:
            entry = entries[name]
            if sys.stdout.isatty():
                print(f"{name}: running ...", end="\r", flush=True)
            try:
                result = run_entry(name, entry, root, code)
            except CaseFailed as e:
                print(f"{name}: FAILED ({e})", flush=True)
                failed += 1
                continue
            results[name] = result
            if args.record:
                if result["config_differences"]:
                    print(f"{name}: FAILED (config.json is not the intended config)")
                    for d in result["config_differences"]:
                        print(f"  {d}")
                    failed += 1
                    continue
                hashes = ", ".join(f"{k} {v}" for k, v in result["hashes"].items())
                print(f"{name}: recorded {hashes} ({result['wall_time_s']} s)", flush=True)
            else:
                line = compare(entry["hashes"], result["hashes"])
                failed += line != "same"
                print(f"{name}: {line} ({result['wall_time_s']} s)", flush=True)
                for d in result["config_differences"]:
                    print(f"  note: config.json differs from the recorded command: {d}")
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)

    if args.record:
        if failed:
            print(f"{failed} case(s) failed; {path} left unchanged")
            return 1
        info["load_average_1min"] = {"start": load_start, "end": os.getloadavg()[0]}
        # --only re-records some cases: the machine's other cases stay.
        cases = dict(records.get(key, {}).get("cases", {}))
        for name in names:
            r = results[name]
            cases[name] = {
                "kind": entries[name]["kind"],
                "hashes": r["hashes"],
                "wall_time_s": r["wall_time_s"],
                "train_wall_time_s": r["train_wall_time_s"],
                "unset_keys": entries[name]["unset_keys"],
                "argv": entries[name]["argv"],
            }
        records[key] = {"recorded": info, "cases": {n: cases[n] for n in CASES if n in cases}}
        out = {
            "about": ABOUT,
            "command": "python scripts/check_hashes.py --check",
            "machines": records,
        }
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path} (machine: {key})")
        return 0
    print(
        f"{len(names) - failed} of {len(names)} cases same" + (f", {failed} not" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
