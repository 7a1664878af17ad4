"""Aggregates a sweep: ``sweep.csv`` (one row per member), ``sweep.md`` (mean ± std over seeds
of every scalar metric in each member's ``summary.json`` and ``eval.json``) and
``sweep_plots.png`` (headline metrics against the first swept key, error bars = std over seeds).
"""

from __future__ import annotations

import csv
import json
import math
import pathlib

import numpy as np

# Shown in the plots when present (the table lists every metric).
PLOTTED = (
    "test_iwae_nll_nats",
    "test_neg_elbo_nats",
    "test_recon_nats",
    "test_kl_nats",
    "test_active_units",
    "train_loss",
)


def member_row(name: str, values: dict, member_dir: pathlib.Path) -> dict:
    """``{"member", swept keys..., metric: float}``: summary scalars (``final_train_metrics``
    prefixed ``train_``) and eval scalars (already prefixed ``test_``)."""
    row: dict = {"member": name, **values}
    summary = _read(member_dir / "summary.json")
    for k, v in summary.get("final_train_metrics", {}).items():
        if k != "step" and _is_number(v):
            row[f"train_{k}"] = float(v)
    for k in ("wall_time_s", "examples_per_s", "compile_s"):
        if _is_number(summary.get(k)):
            row[k] = float(summary[k])
    for k, v in _read(member_dir / "eval.json").items():
        if k.startswith("test_") and _is_number(v):
            row[k] = float(v)
    return row


def aggregate(rows: list[dict], swept: list[str]) -> tuple[list[str], list[dict]]:
    """``(metric names, groups)``; a group is ``{"values": {...}, "n": seeds, metric: (mean,
    std)}`` with the sample std (ddof=1; 0 for one seed), in first-seen order."""
    metrics = sorted(
        {k for r in rows for k in r if k not in ("member", "seed", *swept)},
        key=lambda k: (not k.startswith("test_"), k),
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


def write_reports(rows: list[dict], swept: list[str], workdir: pathlib.Path) -> None:
    workdir = pathlib.Path(workdir)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(workdir / "sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    metrics, groups = aggregate(rows, swept)
    (workdir / "sweep.md").write_text(markdown_table(metrics, groups, swept))
    plot(metrics, groups, swept, workdir / "sweep_plots.png")


def markdown_table(metrics: list[str], groups: list[dict], swept: list[str]) -> str:
    """One row per metric, one column per swept setting: ``mean ± std`` (n seeds)."""
    heads = [", ".join(f"{k}={g['values'][k]}" for k in swept) or "all" for g in groups]
    lines = [
        f"Mean ± std over seeds (n = {', '.join(str(g['n']) for g in groups)}).",
        "",
        "| metric | " + " | ".join(heads) + " |",
        "|---" * (len(groups) + 1) + "|",
    ]
    for m in metrics:
        cells = [f"{g[m][0]:.4g} ± {g[m][1]:.2g}" if m in g else "" for g in groups]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(metrics: list[str], groups: list[dict], swept: list[str], path: pathlib.Path) -> None:
    """Headline metrics against the first swept key; one line per setting of the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in PLOTTED if m in metrics] or metrics[:4]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3), squeeze=False)
    x_key, others = (swept[0], swept[1:]) if swept else (None, [])
    lines: dict[str, list[dict]] = {}
    for g in groups:
        lines.setdefault(", ".join(f"{k}={g['values'][k]}" for k in others), []).append(g)
    xvals = list(dict.fromkeys(repr(g["values"][x_key]) for g in groups)) if x_key else []
    numeric = x_key and all(_is_number(g["values"][x_key]) for g in groups)
    for ax, m in zip(axes[0], shown, strict=False):
        for label, gs in lines.items():
            xs = [
                g["values"][x_key]
                if numeric
                else xvals.index(repr(g["values"][x_key]))
                if x_key
                else 0
                for g in gs
            ]
            mean = [g.get(m, (math.nan, 0))[0] for g in gs]
            std = [g.get(m, (math.nan, 0))[1] for g in gs]
            ax.errorbar(xs, mean, yerr=std, marker="o", capsize=3, label=label or None)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel(x_key or "")
        if x_key and not numeric:
            ax.set_xticks(range(len(xvals)), xvals, fontsize=7)
    if any(lines):
        axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _read(path: pathlib.Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
