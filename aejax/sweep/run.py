"""Runs a sweep: every member trained (vmapped per shape group, or one after another),
evaluated on its test split, then aggregated (see :mod:`aejax.sweep.report`);
:mod:`aejax.sweep.progress` shows how far it is.

Each member gets ``DIR/<name>/`` laid out like a ``scripts/train.py`` workdir (``config.json``,
``metrics.jsonl``, ``checkpoints/``, ``summary.json``) plus ``eval.json``, so
``scripts/evaluate.py --workdir DIR/<name>`` works on it too. A member whose ``summary.json`` and
``eval.json`` exist is not rerun (rerunning the sweep command finishes an interrupted sweep).
SIGTERM or Ctrl-C while a member trains on its own (not vmapped) saves its checkpoint and stops
the sweep with :class:`aejax.errors.StoppedBySignal`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import jax

from aejax import build, paths
from aejax.build.grid import Member, expand, shape_groups
from aejax.evaluation import likelihood
from aejax.evaluation.profiles import DEFAULT_PROFILE, get_profile, profile_iwae_k
from aejax.sweep import report, vmapped
from aejax.sweep.progress import GroupStats, SweepProgress
from aejax.train import loop, preemption
from aejax.train.checkpoint import Checkpointer
from aejax.train.logging import MetricWriter, read_jsonl
from aejax.train.restore import load_trained
from aejax.train.rng import named_keys
from aejax.train.run import make_run
from aejax.train.state import params_sha256
from aejax.train.workdir import RESUMABLE_CHANGES, describe_run

# The same streams of the run's "eval" key as scripts/evaluate.py uses.
IWAE_STREAM, BINARIZE_STREAM = 0, 1


def run_sweep(
    config,
    sweeps: list[str],
    seeds: int,
    workdir,
    *,
    use_vmap: bool,
    iwae_k: int | None = None,
    progress: bool = False,
    profile: str = DEFAULT_PROFILE,
) -> dict:
    """Trains and evaluates every member; writes ``sweep.csv``, ``sweep.md``/``.html`` and plots.

    ``progress``: a bar over members on stderr and a line per finished group on stdout (see
    :mod:`aejax.sweep.progress`). Members are evaluated with the evaluation ``profile``
    (:mod:`aejax.evaluation.profiles`; ``iwae_k`` replaces its K). Returns ``{"members": [...],
    "groups": [sizes], "group_stats": [per group of this call], "wall_time_s": float}``.
    """
    get_profile(profile)  # an unknown name fails before any training
    workdir = paths.check_writable(workdir)
    t0 = time.perf_counter()
    members = expand(config, sweeps, seeds)
    todo = [m for m in members if not done(workdir / m.name)]

    def evaluate(m, member_dir, variables, test_ds):
        evaluate_member(m, member_dir, variables, test_ds, iwae_k, profile)

    groups = shape_groups(todo) if use_vmap else [[m] for m in todo]
    stats = run_groups(groups, workdir, evaluate, progress=progress)
    rows = [report.member_row(m.name, m.values, workdir / m.name) for m in members]
    keys = list(members[0].values)
    report.write_reports(rows, [k for k in keys if k != "seed"], workdir)
    info = {
        "members": [m.name for m in members],
        "groups": [len(g) for g in groups],
        "group_stats": [
            {
                **dataclasses.asdict(g),
                "aggregate_examples_per_s": g.aggregate_examples_per_s,
                "per_member_examples_per_s": g.per_member_examples_per_s,
            }
            for g in stats
        ],
        "vmap": use_vmap,
        "wall_time_s": time.perf_counter() - t0,
    }
    paths.write_text(workdir / "sweep.json", json.dumps(info, indent=2) + "\n")
    return info


def run_groups(
    groups: list[list[Member]], workdir, evaluate: EvaluateMember, *, progress: bool
) -> list[GroupStats]:
    """:func:`run_group` over ``groups`` in order, with one progress bar (ETA) over them."""
    stats = []
    with SweepProgress(sum(map(len, groups)), enabled=progress) as bar:
        for index, group in enumerate(groups):
            bar.start_group(index, len(groups), len(group))
            stats.append(run_group(index, len(groups), group, workdir, bar, evaluate))
            bar.group_done(stats[-1])
    return stats


# evaluate(member, member_dir, variables, test split): writes the member's eval.json
EvaluateMember = Callable[[Member, paths.Path, dict, object], object]


def run_group(
    index: int,
    num_groups: int,
    group: list[Member],
    workdir,
    bar: SweepProgress,
    evaluate: EvaluateMember,
) -> GroupStats:
    """Trains one group (one vmapped program when it has several members, else the train loop)
    and evaluates each member with ``evaluate``; a member is done once its ``eval.json`` exists."""
    train_ds, test_ds = data(group[0].config, "train"), data(group[0].config, "test")
    batch = build.resolve_train(group[0].config, len(train_ds)).batch_size
    if len(group) > 1:
        states, info = _train_vmapped(group, train_ds, workdir, bar)
        steps, train_s, compile_s = info["steps"], info["wall_time_s"], info["compile_s"]
        t0 = time.perf_counter()
        for i, m in enumerate(group):
            variables = {"params": states.params, **states.model_state}
            variables = vmapped.unstack(variables, i)
            evaluate(m, workdir / m.name, variables, test_ds)
            bar.evaluated()
    else:
        m = group[0]
        summary = loop.train(m.config, workdir / m.name)
        # SIGTERM / Ctrl-C: the member's checkpoint is saved; stop the sweep (the rerun resumes
        # this member) rather than evaluate an unfinished run.
        preemption.raise_if_stopped(summary, where=f" of member {m.name}")
        bar.trained_fraction(1, 1.0)
        steps, train_s, compile_s = summary["steps_this_session"], summary["wall_time_s"], None
        t0 = time.perf_counter()
        run = load_trained(
            workdir / m.name, image_shape=train_ds.info.shape, num_train=len(train_ds)
        )
        evaluate(m, workdir / m.name, run.variables, test_ds)
        bar.evaluated()
    return GroupStats(
        index=index,
        num_groups=num_groups,
        names=tuple(m.name for m in group),
        vmapped=len(group) > 1,
        steps=steps,
        examples=steps * batch,
        train_s=train_s,
        compile_s=compile_s,
        eval_s=time.perf_counter() - t0,
    )


_DATA_CACHE: dict = {}


def data(config, split: str):
    """Loads each distinct data config once per process (members usually share it)."""
    key = (build.data_signature(config), split)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = build.load_data(config, split)
    return _DATA_CACHE[key]


def done(member_dir: paths.Path) -> bool:
    """Whether a member is trained and evaluated (a rerun skips it)."""
    return (member_dir / "summary.json").exists() and (member_dir / "eval.json").exists()


def _train_vmapped(group: list[Member], train_ds, workdir: paths.Path, bar: SweepProgress):
    """Trains ``group`` as one vmapped program; writes each member's files; returns the stacked
    final states and :func:`vmapped.train_group`'s info."""
    run = make_run(group[0].config, members=[m.config for m in group], train_ds=train_ds)
    dirs = [workdir / m.name for m in group]
    writers = []
    for m, d in zip(group, dirs, strict=True):
        d.mkdir(parents=True, exist_ok=True)
        paths.write_text(d / "config.json", m.config.to_json_best_effort(indent=2) + "\n")
        for stale in ("metrics.jsonl", "summary.json", "eval.json"):
            (d / stale).unlink(missing_ok=True)
        writers.append(MetricWriter(d))

    def on_log(step, rows):
        for w, row in zip(writers, rows, strict=True):
            w.write(step, row)
        bar.trained_fraction(len(group), step / settings.num_steps)

    settings = run.experiment.train
    try:
        states, info = vmapped.train_group(run, on_log=on_log)
    finally:
        for w in writers:
            w.close()
    for i, (m, d) in enumerate(zip(group, dirs, strict=True)):
        state = vmapped.unstack(states, i)
        ckpt = Checkpointer(
            d / "checkpoints",
            keep=settings.keep_checkpoints,
            run=describe_run(m.config, train_ds, settings.steps_per_epoch),
            ignore_config_keys=RESUMABLE_CHANGES,
            training=True,
        )
        try:
            ckpt.save(state)
            ckpt.wait()
        finally:
            ckpt.close()
        rows = read_jsonl(d / "metrics.jsonl")
        summary = {
            "step": int(state.step),
            "params_sha256": params_sha256(state.params),
            "wall_time_s": info["wall_time_s"],
            "compile_s": info["compile_s"],
            # Examples this member consumed per second of the group's wall time (all members
            # together processed len(group) times as many).
            "examples_per_s": info["steps"] * settings.batch_size / info["wall_time_s"],
            "group_examples_per_s": len(group)
            * info["steps"]
            * settings.batch_size
            / info["wall_time_s"],
            "vmap_group_size": len(group),
            "vmap_group_members": [g.name for g in group],
            "skipped_steps": info["nonfinite_steps"][i],
            # train.on_nonfinite=stop cannot stop one member of a vmapped group: its non-finite
            # steps were skipped instead, and this flag says the member would have stopped.
            "would_have_stopped": settings.on_nonfinite == "stop"
            and info["nonfinite_steps"][i] > 0,
            "num_train_examples": len(train_ds),
            "final_train_metrics": rows[-1] if rows else {},
        }
        paths.write_text(d / "summary.json", json.dumps(summary, indent=2) + "\n")
    return states, info


def evaluate_member(
    m: Member,
    member_dir: paths.Path,
    variables: dict,
    test_ds,
    iwae_k: int | None,
    profile: str = DEFAULT_PROFILE,
) -> dict:
    """``eval.json`` for one member: the likelihood part of ``scripts/evaluate.py --profile
    PROFILE`` (same keys and key streams); ``iwae_k=None`` takes the profile's K."""
    cfg = m.config
    exp = build.build_experiment(cfg, test_ds.info.shape, num_train(member_dir))
    prof = get_profile(profile)
    k = profile_iwae_k(prof, exp.eval.iwae_k) if iwae_k is None else iwae_k
    keys = named_keys(exp.seed)
    t0 = time.perf_counter()
    metrics = likelihood.evaluate_split(
        exp.model,
        variables,
        test_ds.images,
        jax.random.fold_in(keys["eval"], IWAE_STREAM),
        iwae_k=0 if exp.deterministic else k,
        batch_size=exp.eval.batch_size,
        max_samples_per_call=exp.eval.max_samples_per_call,
        binarize=exp.binarize,
        binarize_key=jax.random.fold_in(keys["eval"], BINARIZE_STREAM),
        progress=False,
        iwae_num_examples=prof.iwae_num_test or None,
    )
    result = {f"test_{n}": v for n, v in metrics.items() if n != "num_examples"}
    result.update(
        step=json.loads((member_dir / "summary.json").read_text())["step"],
        iwae_k=0 if exp.deterministic else k,
        num_test=metrics["num_examples"],
        eval_wall_time_s=time.perf_counter() - t0,
        profile={
            "name": prof.name,
            "settings": {
                "iwae_k": 0 if exp.deterministic else k,
                "iwae_num_test": prof.iwae_num_test,
            },
            "overridden": [] if iwae_k is None else ["iwae_k"],
        },
        parts={"likelihood": {"ran": True, "profile": prof.name}},
    )
    paths.write_text(member_dir / "eval.json", json.dumps(result, indent=2) + "\n")
    return result


def num_train(member_dir: paths.Path) -> int:
    """The training examples a member was trained on (from its ``summary.json``)."""
    return int(json.loads((member_dir / "summary.json").read_text())["num_train_examples"])
