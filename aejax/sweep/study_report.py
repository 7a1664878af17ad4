"""The study's figures and report (``study.md`` / ``study.html``), from its ``study.csv`` rows.

Figures, as Locatello et al. (2019) draw them: each metric's distribution per method
(``study_scores.png``), the rank correlations between the metrics and the unsupervised scores
(``study_rank_correlation.png``), the share of each metric's variance the hyperparameter explains
within a method (the rest: the seed; ``study_variance.png``), and the sampled representation's
total correlation against each metric (``study_tc.png``). The report adds the best value per
method by median score and says, for three of the paper's findings, whether this study shows
them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aejax import paths
from aejax.evaluation import study_stats
from aejax.evaluation.report_doc import Doc
from aejax.sweep.study import SCORES, UNSUPERVISED

FIGURES = (
    "study_scores.png",
    "study_rank_correlation.png",
    "study_variance.png",
    "study_tc.png",
)


def _column(rows: Sequence[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) for r in rows])


def _methods(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in rows))


def _of(rows: Sequence[dict], method: str) -> list[dict]:
    return [r for r in rows if r["method"] == method]


def variance_shares(rows: Sequence[dict]) -> dict[str, dict[str, float]]:
    """``{method: {metric: share of its variance the hyperparameter explains}}`` (mean rep.)."""
    return {
        method: {
            metric: study_stats.share_explained(
                [r["value"] for r in _of(rows, method)],
                _column(_of(rows, method), f"{metric}_mean"),
            )
            for metric in SCORES
        }
        for method in _methods(rows)
    }


def findings(rows: Sequence[dict]) -> list[tuple[str, str, str]]:
    """``(finding, what this study measured, "yes" / "partly" / "no")`` for three of the
    paper's findings. Trends in regularisation read a row's ``strength`` (the value, negated
    for methods whose larger values regularise less, such as AnnealedVAE's capacity)."""
    out = []
    # 1. With stronger regularisation the mean representation's TC rises, the sampled one's falls.
    trends = []
    for method in _methods(rows):
        sub = _of(rows, method)
        strength = [r.get("strength", r["value"]) for r in sub]  # orders by regularisation
        if len(set(strength)) < 2:
            continue
        corr = study_stats.rank_correlations(
            {"strength": strength, **{k: _column(sub, k) for k in UNSUPERVISED}}
        )[1]
        trends.append((method, corr[0, 1], corr[0, 2]))
    if trends:
        mean_up = sum(t[1] > 0 for t in trends)
        sampled_down = sum(t[2] < 0 for t in trends)
        shown = ", ".join(f"{m} {a:+.2f} / {b:+.2f}" for m, a, b in trends)
        half = len(trends) / 2
        holds = {2: "yes", 1: "partly", 0: "no"}[int(mean_up > half) + int(sampled_down > half)]
        out.append(
            (
                "Stronger regularisation lowers the total correlation of the sampled "
                "representation while that of the mean representation rises",
                f"Spearman(regularisation strength, TC mean) / (.., TC sampled) per method: "
                f"{shown}; the mean's rises in {mean_up} of {len(trends)} methods, the sampled "
                f"one's falls in {sampled_down}",
                holds,
            )
        )
    # 2. The metrics other than modularity correlate with each other.
    names, matrix = study_stats.rank_correlations({m: _column(rows, f"{m}_mean") for m in SCORES})
    others = [i for i, n in enumerate(names) if n != "modularity"]
    pairs = [matrix[i, j] for i in others for j in others if i < j and np.isfinite(matrix[i, j])]
    if pairs:
        out.append(
            (
                "The metrics other than modularity are correlated",
                f"rank correlations between them: median {np.median(pairs):+.2f}, "
                f"{sum(p > 0 for p in pairs)} of {len(pairs)} pairs positive",
                "yes" if np.median(pairs) > 0 else "no",
            )
        )
    # 3. No method dominates: which method has the best median per metric.
    best = {}
    for metric in SCORES:
        medians = {
            m: float(np.nanmedian(_column(_of(rows, m), f"{metric}_mean"))) for m in _methods(rows)
        }
        best[metric] = max(medians, key=medians.get)
    winners = set(best.values())
    out.append(
        (
            "No method is best on every metric (the random seed and hyperparameters matter more "
            "than the objective)",
            "best median per metric: " + ", ".join(f"{k}: {v}" for k, v in best.items()),
            "yes" if len(winners) > 1 else "no",
        )
    )
    return out


def plot(rows: Sequence[dict], workdir: paths.Path) -> None:
    """The four figures in ``workdir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods, metrics = _methods(rows), list(SCORES)

    def save(fig, name):
        fig.tight_layout()
        paths.save_figure(fig, paths.resolve(workdir) / name, dpi=90)
        plt.close(fig)

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, metric in zip(axes.flat, metrics, strict=True):
        data = [_column(_of(rows, m), f"{metric}_mean") for m in methods]
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(methods) + 1), methods, rotation=30, fontsize=8)
        ax.set_title(f"{metric} (mean representation)")
    save(fig, FIGURES[0])

    names, matrix = study_stats.rank_correlations(
        {
            **{m: _column(rows, f"{m}_mean") for m in metrics},
            **{u: _column(rows, u) for u in UNSUPERVISED},
        }
    )
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="Spearman rank correlation")
    save(fig, FIGURES[1])

    shares = variance_shares(rows)
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        ax.bar(
            np.arange(len(metrics)) + k * width,
            [shares[method][m] for m in metrics],
            width,
            label=method,
        )
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, metrics)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share explained by the hyperparameter\n(the rest: the seed)")
    ax.legend(fontsize=7, ncol=3)
    save(fig, FIGURES[2])

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, metric in zip(axes.flat, metrics, strict=True):
        for method in methods:
            sub = _of(rows, method)
            ax.scatter(_column(sub, "tc_sampled"), _column(sub, f"{metric}_mean"), s=12)
        ax.set_xlabel("total correlation, sampled representation (nats)")
        ax.set_title(metric)
    axes.flat[0].legend(methods, fontsize=7)
    save(fig, FIGURES[3])


def study_doc(rows: Sequence[dict], workdir: paths.Path) -> Doc:
    """The report: what ran, the findings, the figures, the best value per method."""
    methods = _methods(rows)
    seeds = sorted({r["seed"] for r in rows})
    doc = Doc(f"aejax disentanglement study: {paths.resolve(workdir).name}")
    doc.para(
        f"{len(rows)} members: {len(methods)} methods ({', '.join(methods)}) x their "
        f"hyperparameter values x {len(seeds)} seeds; metrics under the "
        f"{rows[0]['protocol']} protocol, {rows[0]['steps']} training steps per member. "
        "Every score here is of the mean representation unless named otherwise; "
        "study.csv holds both representations."
    )
    doc.heading("The paper's findings, in this study")
    doc.table(["finding (Locatello et al. 2019)", "measured here", "shown"], findings(rows))
    doc.heading("Scores per method")
    doc.image(workdir / FIGURES[0], "Each metric's distribution over a method's members.")
    doc.heading("Rank correlations")
    doc.image(workdir / FIGURES[1], "Spearman correlations over all members.")
    doc.heading("Hyperparameter or seed")
    doc.image(
        workdir / FIGURES[2],
        "Share of a metric's variance within a method that its hyperparameter explains "
        "(between-value over total variance); the rest is the random seed's.",
    )
    doc.heading("Unsupervised scores against the metrics")
    doc.image(workdir / FIGURES[3], "Total correlation of the sampled representation.")
    doc.heading("Best value per method (median over seeds)")
    table = []
    for method in methods:
        sub = _of(rows, method)
        values = [r["value"] for r in sub]
        best = [study_stats.best_by_median(values, _column(sub, f"{m}_mean")) for m in SCORES]
        table.append([method, *(f"{b:g}" for b in best)])
    doc.table(["method", *SCORES], table)
    return doc


def write(rows: Sequence[dict], workdir: paths.Path) -> None:
    """The figures, ``study.md`` and ``study.html`` in ``workdir``."""
    from aejax.evaluation import report

    plot(rows, workdir)
    report.write(study_doc(rows, workdir), workdir, stem="study")
