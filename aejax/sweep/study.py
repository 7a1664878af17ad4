"""A disentanglement study in one call: methods x hyperparameter values x seeds (Locatello et
al. 2019's design), each method's grid trained as one vmapped group, every member scored.

A study is a config shared by every member plus, per method, its points: ``(value,
overrides)`` (``experiments/study_locatello.py`` holds the paper's grid). Member
``METHOD/value=V_seed=S`` lives in ``WORKDIR/METHOD/value=V_seed=S/`` laid out like a sweep
member's; it is done when its ``eval.json`` exists, so a rerun trains and scores only what is
missing. ``shard=(i, n)`` takes every n-th method from the i-th: shards can run on separate
machines into one workdir (a bucket) or be merged by copying the member folders together.

Every member is scored (:func:`score_member`) with the six metrics of
:mod:`aejax.evaluation.disentanglement` under the chosen protocol, on the **mean** and on the
**sampled** representation (disentanglement_lib evaluates every metric on both), and with the
unsupervised scores: the Gaussian total correlation of both representations
(:mod:`~aejax.evaluation.disentanglement.unsupervised`). Once every member of the study is
scored, ``study.csv`` (one row per member), the figures and ``study.md``/``study.html``
(:mod:`aejax.sweep.study_report`) are written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from aejax import build, paths
from aejax.build.grid import Member, member, shape_groups
from aejax.evaluation import disentanglement
from aejax.evaluation.disentanglement._ground_truth import sample_codes, shapes_ground_truth
from aejax.evaluation.disentanglement.unsupervised import gaussian_total_correlation
from aejax.evaluation.parts.base import encode_all, representation_fn
from aejax.sweep.run import done, num_train, run_groups

# metric -> the value of compute_all's result a study row reports (higher is better for all)
SCORES = {
    "beta_vae": "eval_accuracy",
    "factor_vae": "eval_accuracy",
    "mig": "mig",
    "dci": "disentanglement",
    "sap": "sap",
    "modularity": "modularity",
}
REPRESENTATIONS = ("mean", "sampled")
UNSUPERVISED = ("tc_mean", "tc_sampled")
TC_EXAMPLES = 10_000  # factor combinations the total correlations are estimated on


def study_members(
    config,
    points: Mapping[str, Sequence[tuple[float, dict]]],
    seeds: int,
    base_seed: int = 0,
    weaker: Sequence[str] = (),
) -> list[Member]:
    """Every member of the study: for each method and each ``(value, overrides)`` of it, one
    member per seed ``base_seed + s``. ``weaker``: the methods whose larger values regularise
    less (a row's ``strength`` is then ``-value``, so that it orders by regularisation)."""
    members = []
    for method, method_points in points.items():
        for value, overrides in method_points:
            for s in range(seeds):
                name = f"{method}/value={value:g}_seed={base_seed + s}"
                strength = -float(value) if method in weaker else float(value)
                values = {"method": method, "value": float(value), "strength": strength}
                members.append(member(config, name, overrides, base_seed + s, values))
    return members


def _sampled_representation(model, variables, seed: int, batch_size: int = 500):
    """``images -> z ~ q(z|x)``: one posterior draw per image, from a numpy stream fixed by
    ``seed`` (the calls come in a fixed order, so the draws are reproducible)."""
    rng = np.random.default_rng(seed)

    def fn(x):
        codes = encode_all(model, variables, np.asarray(x, np.float32), batch_size)
        if "log_var" not in codes:  # no density: the code is its own sample
            return codes["mean"]
        noise = rng.standard_normal(codes["loc"].shape)
        return codes["loc"] + np.exp(0.5 * codes["log_var"]) * noise

    return fn


def score_member(m: Member, member_dir: paths.Path, variables: dict, test_ds, protocol) -> dict:
    """The member's six metrics on both representations and its total correlations; writes
    ``eval.json`` (``{"study": {...}, "metrics": {rep: {metric: {...}}}, "unsupervised": ...}``).
    Draws come from the member's seed."""
    start = time.perf_counter()
    exp = build.build_experiment(m.config, test_ds.info.shape, num_train(member_dir))
    resolution = int(test_ds.info.shape[0])
    fns = {
        "mean": representation_fn(exp.model, variables),
        "sampled": _sampled_representation(exp.model, variables, seed=exp.seed + 1),
    }
    metrics = {
        rep: disentanglement.compute_all(
            fn, resolution=resolution, seed=exp.seed, protocol=protocol
        )
        for rep, fn in fns.items()
    }
    truth = shapes_ground_truth(resolution)
    unsupervised = {}
    for rep, fn in fns.items():
        codes, _ = sample_codes(truth, fn, np.random.default_rng(exp.seed), TC_EXAMPLES)
        unsupervised[f"tc_{rep}"] = gaussian_total_correlation(codes)
    result = {
        "study": dict(m.values),
        "protocol": protocol.name,
        "protocol_settings": protocol.record(),
        "metrics": metrics,
        "unsupervised": unsupervised,
        "tc_examples": TC_EXAMPLES,
        "eval_wall_time_s": time.perf_counter() - start,
    }
    paths.write_text(member_dir / "eval.json", json.dumps(result, indent=2) + "\n")
    return result


def member_row(m: Member, member_dir: paths.Path) -> dict | None:
    """The member's ``study.csv`` row, or None while it is not scored."""
    path = member_dir / "eval.json"
    if not path.exists():
        return None
    ev = json.loads(path.read_text())
    summary = json.loads((member_dir / "summary.json").read_text())
    row = {"member": m.name, **m.values}
    for rep in REPRESENTATIONS:
        for metric, key in SCORES.items():
            row[f"{metric}_{rep}"] = ev["metrics"][rep][metric][key]
    row.update(ev["unsupervised"])
    row["protocol"] = ev["protocol"]
    row["steps"] = summary.get("step")
    row["final_loss"] = summary.get("final_train_metrics", {}).get("loss", math.nan)
    return row


def shard_of(methods: Sequence[str], shard: tuple[int, int]) -> list[str]:
    """The methods shard ``(i, n)`` runs: every n-th from the i-th."""
    i, n = shard
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard i/n needs 0 <= i < n, got {i}/{n}")
    return list(methods)[i::n]


def run_study(
    config,
    points: Mapping[str, Sequence[tuple[float, dict]]],
    seeds: int,
    workdir: paths.PathLike,
    *,
    protocol,
    base_seed: int = 0,
    weaker: Sequence[str] = (),
    shard: tuple[int, int] = (0, 1),
    progress: bool = False,
) -> dict:
    """Trains and scores the members of this shard that are not done, then writes the study's
    table, figures and report when every member of the whole study is scored.

    Returns ``{"members": M, "trained": [...], "scored": S, "groups": [...], "wall_time_s",
    "report": bool}``.
    """
    from aejax.sweep import study_report

    workdir = paths.check_writable(workdir)
    t0 = time.perf_counter()
    members = study_members(config, points, seeds, base_seed=base_seed, weaker=weaker)
    mine = set(shard_of(list(points), shard))
    todo = [m for m in members if m.values["method"] in mine and not done(workdir / m.name)]
    groups = shape_groups(todo)

    def evaluate(m, member_dir, variables, test_ds):
        score_member(m, member_dir, variables, test_ds, protocol)

    stats = run_groups(groups, workdir, evaluate, progress=progress)
    rows = [r for m in members if (r := member_row(m, workdir / m.name)) is not None]
    complete = len(rows) == len(members)
    if complete:
        write_table(rows, workdir / "study.csv")
        study_report.write(rows, workdir)
    info = {
        "members": len(members),
        "trained": [m.name for m in todo],
        "scored": len(rows),
        "groups": [len(g) for g in groups],
        # per group: training wall s (compilation excluded), compilation s, scoring s
        "group_train_s": [s.train_s for s in stats],
        "group_compile_s": [s.compile_s for s in stats],
        "group_eval_s": [s.eval_s for s in stats],
        "shard": list(shard),
        "wall_time_s": time.perf_counter() - t0,
        "report": complete,
    }
    history = workdir / "study_runs.jsonl"  # one line per call: what it trained and how long
    old = history.read_text() if history.exists() else ""
    paths.write_text(history, old + json.dumps(info) + "\n")
    return info


def write_table(rows: list[dict], path: paths.Path) -> None:
    """``study.csv``: one row per member, columns in first-seen order."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    paths.write_text(path, table.getvalue())
