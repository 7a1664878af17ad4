"""Aggregates a sweep: ``sweep.csv`` (one row per member), ``sweep.md`` and ``sweep.html`` (mean ±
std over seeds of every scalar metric of each member's ``summary.json`` and ``eval.json``, the
plots, and the throughput of each group) and ``sweep_plots.png`` (headline metrics against the
first swept key, error bars = std over seeds, log x axis when the swept values are log-spaced).

Throughput is labelled by what it counts. A vmapped group trains all its members at once, so
its *aggregate* examples/s (every member's examples over the group's training wall time) is the
sweep's speed, and the *per-member* examples/s (aggregate / members) is what one member saw; the
per-member number of an 8-member group is not a sign of an 8x slower sweep.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from aejax import paths
from aejax.evaluation import headline
from aejax.evaluation.report_doc import Cell, Doc

# Shown in the plots when present (the table lists every metric).
PLOTTED = (
    "test_iwae_nll_nats",
    "test_neg_elbo_nats",
    "test_recon_nats",
    "test_kl_nats",
    "test_active_units",
    "train_loss",
)
PER_MEMBER, AGGREGATE = "examples_per_s_per_member", "examples_per_s_group_aggregate"
# Columns of sweep.csv about how a member was trained, shown in the throughput table only.
BOOKKEEPING = (
    "vmap_group",
    "vmap_group_size",
    "steps",
    "train_wall_time_s",
    "compile_s",
    PER_MEMBER,
    AGGREGATE,
)


def member_row(name: str, values: dict, member_dir: paths.Path) -> dict:
    """``{"member", swept keys..., metric: float, bookkeeping...}``: summary scalars
    (``final_train_metrics`` prefixed ``train_``), eval scalars (already prefixed ``test_``) and
    the :data:`BOOKKEEPING` columns (``vmap_group``: the group's first member)."""
    row: dict = {"member": name, **values}
    summary = _read(member_dir / "summary.json")
    for k, v in summary.get("final_train_metrics", {}).items():
        if k != "step" and _is_number(v):
            row[f"train_{k}"] = float(v)
    for k, v in _read(member_dir / "eval.json").items():
        if k.startswith("test_") and _is_number(v):
            row[k] = float(v)
    size = int(summary.get("vmap_group_size", 1))
    per_member = summary.get("examples_per_s")
    bookkeeping = {
        "vmap_group": (summary.get("vmap_group_members") or [name])[0],
        "vmap_group_size": size,
        "steps": summary.get("step"),
        "train_wall_time_s": summary.get("wall_time_s"),
        "compile_s": summary.get("compile_s"),
        PER_MEMBER: per_member,
        AGGREGATE: summary.get("group_examples_per_s", per_member),
    }
    row.update({k: v for k, v in bookkeeping.items() if v is not None})
    return row


def aggregate(rows: list[dict], swept: list[str]) -> tuple[list[str], list[dict]]:
    """``(metric names, groups)``; a group is ``{"values": {...}, "n": seeds, metric: (mean,
    std)}`` with the sample std (ddof=1; 0 for one seed), in first-seen order. Metrics: headline
    ones first (in :data:`aejax.evaluation.headline.HEADLINE` order), then other ``test_``, then
    the rest; :data:`BOOKKEEPING` columns are not metrics."""
    order = {m.path: i for i, m in enumerate(headline.HEADLINE)}
    skip = {"member", "seed", *swept, *BOOKKEEPING}
    metrics = sorted(
        {k for r in rows for k in r if k not in skip},
        key=lambda k: (order.get(k, len(order)), not k.startswith("test_"), k),
    )
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(repr(r[k]) for k in swept), []).append(r)
    out = []
    for members in groups.values():
        g: dict = {"values": {k: members[0][k] for k in swept}, "n": len(members)}
        for m in metrics:
            xs = np.array([r[m] for r in members if m in r], np.float64)
            if xs.size:
                g[m] = (float(xs.mean()), float(xs.std(ddof=1)) if xs.size > 1 else 0.0)
        out.append(g)
    return metrics, out


def throughput_rows(rows: list[dict]) -> list[list]:
    """One row per training group: ``[first member, members, steps per member, training wall s,
    compile s, aggregate examples/s, per-member examples/s]``."""
    seen: dict[str, list] = {}
    for r in rows:
        if PER_MEMBER in r and r["vmap_group"] not in seen:
            seen[r["vmap_group"]] = [
                r["vmap_group"],
                r["vmap_group_size"],
                r.get("steps"),
                r.get("train_wall_time_s"),
                r.get("compile_s"),
                r[AGGREGATE],
                r[PER_MEMBER],
            ]
    return list(seen.values())


def write_reports(rows: list[dict], swept: list[str], workdir: paths.Path) -> None:
    """``sweep.csv``, ``sweep_plots.png``, ``sweep.md`` and ``sweep.html`` in ``workdir``."""
    from aejax.evaluation import report

    workdir = paths.resolve(workdir)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    paths.write_text(workdir / "sweep.csv", table.getvalue())
    metrics, groups = aggregate(rows, swept)
    plot(metrics, groups, swept, workdir / "sweep_plots.png")
    report.write(sweep_doc(rows, metrics, groups, swept, workdir), workdir, stem="sweep")


def sweep_doc(rows, metrics, groups, swept, workdir: paths.Path) -> Doc:
    """The sweep report: metrics (mean ± std, best mean marked), plots, throughput."""
    doc = Doc(f"aejax sweep: {paths.resolve(workdir).name}")
    grid = "; ".join(f"{k} = {', '.join(str(v) for v in _values(groups, k))}" for k in swept)
    seeds = len({r.get("seed") for r in rows})
    doc.para(f"{len(rows)} members: {grid or 'one setting'} x {seeds} seed(s).")
    doc.heading("Metrics")
    doc.para(f"Mean ± std over seeds (n = {', '.join(str(g['n']) for g in groups)}).")
    heads = [", ".join(f"{k}={g['values'][k]}" for k in swept) or "all" for g in groups]
    directions = {m.path: (m.better, headline.unit(m)) for m in headline.HEADLINE}
    table = []
    for m in metrics:
        better, unit = directions.get(m, (headline.NEITHER, ""))
        means = [g[m][0] if m in g else None for g in groups]
        marked = headline.best(means, better)
        cells = [
            Cell(f"{g[m][0]:.4g} ± {g[m][1]:.2g}", best=i in marked) if m in g else ""
            for i, g in enumerate(groups)
        ]
        table.append([m, unit, better, *cells])
    doc.table(["metric", "unit", "better", *heads], table, css_class="sweep")
    doc.para("Bold: the better mean of a row, by its 'better' column ('-': neither).")
    doc.image(
        workdir / "sweep_plots.png",
        f"Headline metrics against {swept[0] if swept else 'the single setting'}: points are "
        "means over seeds, error bars ± one standard deviation (n - 1); one line per setting of "
        "the other swept keys. A log-scaled x axis means the swept values are log-spaced.",
    )
    doc.heading("Throughput")
    doc.para(
        "Aggregate examples/s: all members of a vmapped group together, over the group's "
        "training wall time; this is the sweep's speed. Per-member examples/s: aggregate / "
        "members, what each member saw; do not read it as the sweep's speed."
    )
    trows = throughput_rows(rows)
    doc.table(
        [
            "group (first member)",
            "members",
            "steps per member",
            "training wall s",
            "compile s",
            "aggregate examples/s",
            "per-member examples/s",
        ],
        [[*r[:3], *(_num(x, "{:.1f}") for x in r[3:5]), *(_num(x, "{:,.0f}") for x in r[5:])]
         for r in trows],
    )  # fmt: skip
    walls = [r[3] for r in trows if r[3]]
    if walls and len(walls) == len(trows):
        total = sum(r[5] * r[3] for r in trows)
        doc.para(
            f"Whole sweep: {total:,.0f} training examples in {sum(walls):.1f} s of training "
            f"= {total / sum(walls):,.0f} examples/s aggregate. One row per member: sweep.csv."
        )
    return doc


def _num(x, spec: str) -> str:
    return "-" if x is None else spec.format(x)


def _values(groups: list[dict], key: str) -> list:
    """The distinct values of ``key``, in first-seen order."""
    return list({repr(g["values"][key]): g["values"][key] for g in groups}.values())


def log_spaced(values) -> bool:
    """Whether positive numbers are closer to evenly spaced in log than in linear scale (1, 2, 4,
    8 or 1e-4, 1e-3, 1e-2); two values count when they are at least 10x apart."""
    xs = sorted({float(v) for v in values if _is_number(v)})
    if len(xs) < 2 or len(xs) < len(set(map(repr, values))) or xs[0] <= 0:
        return False
    if len(xs) == 2:
        return xs[1] / xs[0] >= 10
    lin, log = np.diff(xs), np.diff(np.log(xs))
    return float(np.std(log) / np.mean(log)) < float(np.std(lin) / np.mean(lin))


def plot(metrics: list[str], groups: list[dict], swept: list[str], path: paths.Path) -> None:
    """Headline metrics against the first swept key; one line per setting of the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in PLOTTED if m in metrics] or metrics[:4]
    cols = min(len(shown), 3)
    rows_ = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.4 * rows_), squeeze=False)
    for ax in axes.flat[len(shown) :]:
        ax.set_axis_off()
    x_key, others = (swept[0], swept[1:]) if swept else (None, [])
    lines: dict[str, list[dict]] = {}
    for g in groups:
        lines.setdefault(", ".join(f"{k}={g['values'][k]}" for k in others), []).append(g)
    xvals = _values(groups, x_key) if x_key else []
    numeric = bool(x_key) and all(_is_number(v) for v in xvals)
    logx = numeric and log_spaced(xvals)
    units = {m.path: headline.unit(m) for m in headline.HEADLINE}
    for ax, m in zip(axes.flat, shown, strict=False):
        for label, gs in lines.items():
            xs = [g["values"][x_key] if numeric else xvals.index(g["values"][x_key]) for g in gs]
            if not x_key:
                xs = [0] * len(gs)
            mean = [g.get(m, (math.nan, 0))[0] for g in gs]
            std = [g.get(m, (math.nan, 0))[1] for g in gs]
            ax.errorbar(xs, mean, yerr=std, marker="o", capsize=3, label=label or None)
        unit = units.get(m, "")
        ax.set_title(m + (f" ({unit})" if unit else ""), fontsize=11)
        ax.set_xlabel((x_key or "") + (" (log scale)" if logx else ""), fontsize=11)
        if logx:
            ax.set_xscale("log")
            ax.set_xticks(xvals, [str(v) for v in xvals])
            ax.minorticks_off()
        elif x_key and not numeric:
            ax.set_xticks(range(len(xvals)), [str(v) for v in xvals], fontsize=9)
        ax.grid(alpha=0.3)
    if any(lines):
        axes[0][0].legend(fontsize=10)
    fig.tight_layout()
    paths.save_figure(fig, path, dpi=100)
    plt.close(fig)


def _read(path: paths.Path) -> dict:
    path = paths.resolve(path)
    return json.loads(path.read_text()) if path.exists() else {}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
