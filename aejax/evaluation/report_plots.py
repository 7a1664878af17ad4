"""The plots a report draws itself (training curves, KL per latent dimension) and the caption of
every plot, saying what it shows and how to read it.

Curves of several runs share one legend above the panels, in the body font size, with one colour
per run in every panel, so the legend stays legible when the page scales the figure down.
"""

from __future__ import annotations

from collections.abc import Sequence

from aejax import paths

# "test/neg_elbo_nats": the periodic evaluation's rows (config.evals), beside the train loss.
CURVE_KEYS = ("loss", "neg_elbo", "test/neg_elbo_nats", "recon", "kl", "grad_norm")
_NATS = ("loss", "neg_elbo", "test/neg_elbo_nats", "recon", "kl")
_TITLES = {
    "test/neg_elbo_nats": "test negative ELBO",
    "loss": "training loss",
    "neg_elbo": "negative ELBO",
    "recon": "reconstruction",
    "kl": "KL",
    "grad_norm": "gradient norm",
}
# What each evaluation plot shows and how to read it (keyed by file name).
CAPTIONS = {
    "reconstructions.png": "Reconstructions: rows alternate test inputs and the decoder mean at "
    "z = E[z|x]. Blurry or wrong shapes mean the code lost information.",
    "prior_samples.png": "Samples: decoder means at z ~ p(z). Garbage here with good "
    "reconstructions means the aggregate posterior does not fill the prior (the 'holes' problem).",
    "interpolations.png": "Interpolations: each row walks in a straight line between the "
    "posterior means of two test images (framed by the inputs). Smooth morphs mean a smooth latent "
    "space; sudden jumps or blanks mean holes.",
    "latent_traversals.png": "Latent traversals: one row per latent dimension (label: its mean "
    "KL in nats, rows sorted by it), moving that dimension from -3 to +3 prior standard deviations "
    "around one image's code. A row that never changes is a collapsed dimension; a row that "
    "changes one property (position, size, ...) is a disentangled one.",
    "latent_pca.png": "Codes E[z|x] of test images projected on their first two principal "
    "components, coloured by label (or the first factor). Separated colours mean the classes are "
    "linearly visible in the code.",
    "latent_tsne.png": "t-SNE of the codes E[z|x], coloured as above. Clusters show "
    "neighbourhoods only: distances between clusters and cluster sizes mean little in t-SNE.",
    "robustness.png": "Robustness: reconstruction MSE (top, lower is better) and probe accuracy "
    "(bottom, higher is better) as each corruption grows; dashed lines are the clean values. A "
    "curve that leaves its dashed line early marks a brittle representation.",
    "class_samples.png": "Class-conditional samples: one row per class label fed to the decoder.",
}
TRAINING_CAPTION = (
    "Training curves from metrics.jsonl: each point is the mean over the training batches since "
    "the previous point (nats per example for loss, negative ELBO, reconstruction and KL); the "
    "test negative ELBO (when config.evals logged it) is over the test split at that step. "
    "Falling loss with rising KL is the usual healthy shape; a KL stuck near 0 is posterior "
    "collapse. Panels marked 'log scale' span more than a factor of 20."
)
KL_CAPTION = (
    "KL per latent dimension (left, nats per example) and the variance over test images of each "
    "dimension's posterior mean E[z|x] (right, log scale; dashed: the 0.01 threshold for an "
    "active unit). A dimension with KL near 0 and variance under the threshold is collapsed: the "
    "decoder ignores it."
)


def caption(name: str) -> str:
    return CAPTIONS.get(name, f"Plot written by the evaluation ({name}).")


def reading_order(names: Sequence[str]) -> list[str]:
    """Plots in the order of :data:`CAPTIONS` (images, then latent plots), then the rest."""
    known = list(CAPTIONS)
    return sorted(names, key=lambda n: (known.index(n) if n in known else len(known), n))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: paths.Path) -> paths.Path:
    """The one place a report writes an image file."""
    paths.save_figure(fig, path, dpi=100)
    _pyplot().close(fig)
    return path


def training_curves(
    names: Sequence[str], metrics: Sequence[list[dict]], path: paths.Path
) -> paths.Path | None:
    """One panel per logged key of :data:`CURVE_KEYS`, one line per run (``metrics[i]`` is run
    ``i``'s ``metrics.jsonl`` rows); ``None`` when no run logged any of them."""
    keys = [k for k in CURVE_KEYS if any(k in row for rows in metrics for row in rows)]
    if not keys:
        return None
    plt = _pyplot()
    cols = min(len(keys), 3)
    nrows = -(-len(keys) // cols)
    several = len(names) > 1
    top = 0.55 + 0.3 * ((len(names) - 1) // 3) if several else 0.0  # inches for the legend
    fig, axes = plt.subplots(nrows, cols, figsize=(4.4 * cols, 3.3 * nrows + top), squeeze=False)
    for ax in axes.flat[len(keys) :]:
        ax.set_axis_off()
    for ax, key in zip(axes.flat, keys, strict=False):
        lows = []
        for i, rows in enumerate(metrics):
            pts = [(row["step"], row[key]) for row in rows if row.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), color=f"C{i}", label=names[i], lw=1.8)
                lows.append(min(p[1] for p in pts))
                lows.append(max(p[1] for p in pts))
        title = _TITLES[key] + (" (nats)" if key in _NATS else "")
        if lows and min(lows) > 0 and max(lows) / min(lows) > 20:
            ax.set_yscale("log")
            title += ", log scale"
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("step", fontsize=11)
        ax.tick_params(labelsize=10)
        ax.grid(alpha=0.3)
    if several:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(len(names), 3), fontsize=12,
                   frameon=False)  # fmt: skip
        fig.tight_layout(rect=(0, 0, 1, 1 - top / fig.get_figheight()))
    else:
        fig.tight_layout()
    return save_figure(fig, path)


def kl_per_dim(
    names: Sequence[str], lists: Sequence[dict[str, list]], path: paths.Path
) -> paths.Path | None:
    """Bars of each run's ``kl_per_dim`` and ``posterior_mean_var`` (``lists[i]``: lists
    ``[D]`` of run ``i``), grouped by dimension; ``None`` when no run has either."""
    evals = lists
    keys = [k for k in ("kl_per_dim", "posterior_mean_var") if any(e.get(k) for e in evals)]
    if not keys:
        return None
    plt = _pyplot()
    width = max(max(len(e.get(k) or []) for e in evals for k in keys), 1)
    fig, axes = plt.subplots(
        1, len(keys), figsize=(min(2.5 + 0.45 * width * len(names), 6.5) * len(keys), 3.4),
        squeeze=False,
    )  # fmt: skip
    bar = 0.8 / len(names)
    for ax, key in zip(axes[0], keys, strict=True):
        for i, (name, ev) in enumerate(zip(names, evals, strict=True)):
            ys = ev.get(key) or []
            xs = [d - 0.4 + bar * (i + 0.5) for d in range(len(ys))]
            ax.bar(xs, ys, width=bar, color=f"C{i}", label=name if len(names) > 1 else None)
        if key == "kl_per_dim":
            ax.set_title("KL per latent dimension (nats)", fontsize=12)
        else:
            ax.set_yscale("log")
            ax.axhline(0.01, color="grey", ls="--", lw=1)
            ax.set_title("variance of E[z|x] per dimension", fontsize=12)
        ax.set_xlabel("latent dimension", fontsize=11)
        ax.set_xticks(range(0, width, max(1, width // 16)))
        ax.tick_params(labelsize=10)
        if len(names) > 1:
            ax.legend(fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)
