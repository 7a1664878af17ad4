"""Reports of one run or several, for a person to read: Markdown and a self-contained HTML page.

A run report reads top-down in the order a researcher needs it: what the run is, any warning
(an evaluation older than the newest checkpoint is flagged, since its numbers describe another
model), the headline metrics with units and definitions (:mod:`aejax.evaluation.headline`), the
training curves, the KL per latent dimension, every evaluation plot with a caption saying how to
read it, and last, collapsed, the raw tables of ``eval.json``, the bookkeeping of
``summary.json`` (hashes, timings) and the config.

A comparison report starts with what differs between the configs, then the headline metrics side
by side with the better value marked and the differences to the first run, the overlaid curves,
the plots in rows, and the raw tables collapsed.

Files are read by :func:`load_run` (through ``_read_json``/``_read_jsonl``/
``_checkpoint_steps``) and written by :func:`write` and the plot helpers only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from aejax import paths
from aejax.errors import WorkdirError
from aejax.evaluation import headline
from aejax.evaluation import report_plots as plots
from aejax.evaluation import report_tables as tables
from aejax.evaluation.report_doc import Cell, Doc, flatten, fmt  # noqa: F401 (public API)

CURVE_KEYS = plots.CURVE_KEYS
RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "eval.json")
# eval.json keys that are bookkeeping, shown in the collapsed tables rather than as results
_SKIP_SECTIONS = ("plots", "wall_time_s", "cpu_time_s")
_OWN_PLOTS = ("training_curves.png", "kl_per_dim.png")


@dataclasses.dataclass(frozen=True)
class Run:
    """What a workdir holds for a report. ``checkpoint_steps``: steps of complete checkpoints."""

    name: str
    workdir: paths.Path
    config: dict
    metrics: list[dict]
    evaluation: dict
    summary: dict
    checkpoint_steps: tuple[int, ...] = ()


# ------------------------------------------------------------------------------- reading


def _read_json(path: paths.Path) -> dict:
    path = paths.resolve(path)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise WorkdirError(f"{path} is not valid JSON ({e}); rerun what wrote it") from e


def _read_jsonl(path: paths.Path) -> list[dict]:
    """Rows of ``metrics.jsonl``; a torn last line (training still writing) is left out."""
    path = paths.resolve(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _checkpoint_steps(workdir: paths.Path) -> tuple[int, ...]:
    """Steps under ``checkpoints/`` whose save completed (its manifest was written)."""
    from aejax.train.manifest import NAME

    root = workdir / "checkpoints"
    if not root.is_dir():
        return ()
    return tuple(
        sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / NAME).exists())
    )


def load_run(workdir: paths.PathLike, name: str | None = None) -> Run:
    """Reads the files of :data:`RUN_FILES` (each may be missing, not all of them).

    Raises:
      WorkdirError: ``workdir`` is not a directory or holds none of :data:`RUN_FILES`.
    """
    paths.require_backend(workdir)
    workdir = paths.resolve(workdir)
    if not workdir.is_dir():
        raise WorkdirError(
            f"{workdir} does not exist or is not a directory; pass the workdir of a training run"
        )
    if not any((workdir / f).exists() for f in RUN_FILES):
        raise WorkdirError(
            f"{workdir} holds no run (none of {', '.join(RUN_FILES)}); train into it with "
            f"scripts/train.py --workdir {workdir} first"
        )
    return Run(
        name=name or workdir.name,
        workdir=workdir,
        config=_read_json(workdir / "config.json"),
        metrics=_read_jsonl(workdir / "metrics.jsonl"),
        evaluation=_read_json(workdir / "eval.json"),
        summary=_read_json(workdir / "summary.json"),
        checkpoint_steps=_checkpoint_steps(workdir),
    )


# ------------------------------------------------------------------------------- warnings


def warnings(run: Run) -> list[str]:
    """What a reader must know before trusting the numbers: no evaluation, or a stale one (its
    step differs from the newest checkpoint or from the step training reached)."""
    ev_step = run.evaluation.get("step")
    command = f"python scripts/evaluate.py --workdir {run.workdir}"
    if not run.evaluation:
        return [f"no evaluation yet (no eval.json); run {command}"]
    newest = run.checkpoint_steps[-1] if run.checkpoint_steps else None
    trained = run.summary.get("step")
    newer = [s for s in (newest, trained) if s is not None and s != ev_step]
    if ev_step is None or not newer:
        return []
    return [
        f"stale evaluation: eval.json is of step {ev_step}, but training reached step "
        f"{trained if trained is not None else '-'} (newest checkpoint: "
        f"{newest if newest is not None else '-'}). The evaluation numbers and plots describe "
        f"the older model; rerun {command} (or ignore this if --step {ev_step} was meant)."
    ]


# The keys of the method groups that weigh the method's own term, in the order they are looked for.
_MAIN_WEIGHTS = (
    "beta",
    "tc_weight",
    "weight",
    "adversarial_weight",
    "classification_weight",
    "num_samples",
)


def _main_weight(config: dict, objective: dict) -> str:
    """`` (beta=4.0)``: the main weight in the method's own config group (``elbo.beta``,
    ``factor_vae.tc_weight``, ``m2.classification_weight``, ...), or ``objective.beta`` of a run
    saved before the groups existed; "" when there is none."""
    group = config.get(objective.get("name", ""), {})
    group = group if isinstance(group, dict) else {}
    numbers = [(k, group[k]) for k in _MAIN_WEIGHTS if k in group]
    if not numbers and objective.get("beta"):
        numbers = [("beta", objective["beta"])]
    return f" ({numbers[0][0]}={numbers[0][1]})" if numbers else ""


def describe(run: Run) -> str:
    """One line: data, model, objective, steps trained and evaluated."""
    saved, ev = run.config, run.evaluation  # config.json as saved: a dict
    model = saved.get("model", {})
    parts = [f"dataset {ev.get('dataset') or saved.get('data', {}).get('name', '-')}"]
    if model:
        parts.append(
            f"{model.get('encoder', {}).get('kind', '?')} encoder/decoder, "
            f"{model.get('latent_dim', '?')}-d latent, {model.get('likelihood', '?')} likelihood"
        )
    objective = saved.get("objective", {})
    if objective:
        parts.append(f"objective {objective.get('name', '?')}" + _main_weight(saved, objective))
    if run.summary.get("step") is not None:
        parts.append(f"trained {run.summary['step']} steps")
    if ev.get("step") is not None:
        parts.append(f"evaluated at step {ev['step']} on {ev.get('num_test', '?')} test images")
    return "; ".join(parts) + "."


# ------------------------------------------------------------------------------- run report


def _training_rows(summary: dict) -> list[list]:
    s, final = summary, summary.get("final_train_metrics", {})
    rows = [
        ["steps trained", s.get("step"), ""],
        ["training time, all sessions", s.get("training_time_s_total", s.get("wall_time_s")), "s"],
    ]
    if s.get("vmap_group_size", 1) > 1:
        rows += [
            [
                f"aggregate throughput, all {s['vmap_group_size']} members of the vmapped group",
                s.get("group_examples_per_s"),
                "examples/s",
            ],
            ["per-member throughput (aggregate / members)", s.get("examples_per_s"), "examples/s"],
        ]
    else:
        throughput = s.get("examples_per_s_total", s.get("examples_per_s"))
        rows.append(["throughput", throughput, "examples/s"])
    rows.append(["last logged training loss", final.get("loss"), "nats/example"])
    if s.get("skipped_steps"):
        rows.append(["skipped non-finite steps", s["skipped_steps"], "steps"])
    if s.get("preempted"):
        rows.append(["stopped early (preempted)", True, ""])
    return [r for r in rows if r[1] is not None]


def _headline_section(doc: Doc, ev: dict, config: dict):
    doc.heading("Headline")
    rows = headline.single_rows(ev, config)
    doc.table(["metric", "value", "unit", "better", "what it is"], rows, css_class="headline")
    if rows:
        doc.para(
            "better: the direction in which a metric improves ('-': neither by itself). "
            "Baselines on raw pixels are what the learned code should beat."
        )
    else:
        doc.para("eval.json holds none of the headline metrics.")
    for note in headline.lookup(ev, "likelihood.notes") or []:
        doc.para(f"Note: {note}.")


def single_report(run: Run) -> Doc:
    """The report of one run (see the module docstring)."""
    doc = Doc(f"aejax report: {run.name}")
    ev, wd = run.evaluation, run.workdir
    doc.para(describe(run))
    for w in warnings(run):
        doc.warning(w)
    if ev:
        _headline_section(doc, ev, run.config)
    doc.heading("Training")
    doc.table(["quantity", "value", "unit"], _training_rows(run.summary))
    curves = plots.training_curves([run.name], [run.metrics], wd / "training_curves.png")
    if curves:
        doc.image(curves, plots.TRAINING_CAPTION)
    kl = plots.kl_per_dim([run.name], [tables.dim_lists(ev)], wd / "kl_per_dim.png")
    if kl:
        doc.heading("Latent dimensions")
        doc.image(kl, plots.KL_CAPTION)
    names = _plot_names([run])
    if names:
        doc.heading("Evaluation plots")
        for name in names:
            doc.image(wd / name, plots.caption(name))
    doc.heading("Details")
    if ev:
        with doc.details("All evaluation numbers (eval.json)"):
            doc.table(["metric", "value"], tables.top_level(ev))
            for section, value in ev.items():
                if isinstance(value, dict) and section not in _SKIP_SECTIONS:
                    doc.heading(section.replace("_", " ").capitalize(), 3)
                    tables.section_tables(doc, value)
    with doc.details("Bookkeeping (summary.json: hashes, timings; evaluation time)"):
        doc.table(["quantity", "value"], list(flatten(run.summary).items()))
        if "wall_time_s" in ev:
            cpu = ev.get("cpu_time_s", {})
            doc.table(
                ["evaluation part", "wall seconds", "CPU seconds (all threads)"],
                [[k, v, cpu.get(k)] for k, v in ev["wall_time_s"].items()],
            )
    with doc.details("Config (config.json)"):
        doc.table(["key", "value"], list(flatten(run.config).items()))
    return doc


def _plot_names(runs: Sequence[Run]) -> list[str]:
    names = []
    for r in runs:
        listed = r.evaluation.get("plots") or sorted(p.name for p in r.workdir.glob("*.png"))
        names += [n for n in listed if (r.workdir / n).exists() and n not in _OWN_PLOTS]
    return plots.reading_order(list(dict.fromkeys(names)))


# ------------------------------------------------------------------------------- comparison


def compare_report(runs: Sequence[Run], out_dir: paths.Path) -> Doc:
    """Configs that differ first, then headline metrics side by side (better value marked,
    differences to the first run), overlaid curves, plots in rows, raw tables collapsed."""
    names = [r.name for r in runs]
    doc = Doc("aejax comparison: " + ", ".join(names))
    doc.table(
        ["run", "workdir", "trained steps", "evaluated step"],
        [
            [r.name, str(r.workdir.resolve()), r.summary.get("step"), r.evaluation.get("step")]
            for r in runs
        ],
    )
    for r in runs:
        for w in warnings(r):
            doc.warning(f"{r.name}: {w}")
    doc.heading("What differs")
    rows = tables.side_by_side([r.config for r in runs])
    differ = [row for row in rows if len({fmt(c) for c in row[1:]}) > 1]
    if differ:
        doc.table(["config key", *names], differ)
    else:
        doc.para("The configs are identical: the runs differ only in what the config leaves out.")
    evals = [r.evaluation for r in runs]
    doc.heading("Headline")
    diffs = [f"\N{GREEK CAPITAL LETTER DELTA} {n} \N{MINUS SIGN} {names[0]}" for n in names[1:]]
    hl = headline.compare_rows(evals, [r.config for r in runs])
    doc.table(["metric", "unit", "better", *names, *diffs], hl, css_class="headline")
    doc.para(
        f"Bold (green): the better value of a row, by its 'better' column ('-': no better "
        f"direction, never marked). \N{GREEK CAPITAL LETTER DELTA}: each run minus {names[0]}."
        if hl
        else "No run has headline metrics in its eval.json."
    )
    doc.heading("Training")
    curves = plots.training_curves(
        names, [r.metrics for r in runs], out_dir / "training_curves.png"
    )
    if curves:
        doc.image(curves, plots.TRAINING_CAPTION + " One colour per run, the same in every panel.")
    kl = plots.kl_per_dim(names, [tables.dim_lists(e) for e in evals], out_dir / "kl_per_dim.png")
    if kl:
        doc.heading("Latent dimensions")
        doc.image(kl, plots.KL_CAPTION + " Bars are grouped by dimension, one colour per run.")
    plot_names = _plot_names(runs)
    if plot_names:
        doc.heading("Evaluation plots")
    for name in plot_names:
        doc.images_row(
            [((r.workdir / name) if (r.workdir / name).exists() else None, r.name) for r in runs]
        )
        doc.para(plots.caption(name))
    doc.heading("Details")
    with doc.details("All evaluation numbers side by side (eval.json)"):
        raw = [{k: v for k, v in e.items() if k not in _SKIP_SECTIONS} for e in evals]
        doc.table(
            ["metric", *names],
            [[k, *(tables.raw_cell(k, c) for c in cs)] for k, *cs in tables.side_by_side(raw)],
        )
    with doc.details("Bookkeeping side by side (summary.json: hashes, timings)"):
        doc.table(["quantity", *names], tables.side_by_side([r.summary for r in runs]))
    with doc.details("Full configs side by side (config.json)"):
        doc.table(["key", *names], rows)
    return doc


# ------------------------------------------------------------------------------- writing


def write(doc: Doc, out_dir: paths.Path, stem: str = "report") -> tuple[paths.Path, ...]:
    """Writes ``out_dir/<stem>.md`` (images linked) and ``<stem>.html`` (images embedded)."""
    out_dir = paths.resolve(out_dir)
    md, page = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    paths.write_text(md, doc.markdown(out_dir))
    paths.write_text(page, doc.html())
    return md, page
