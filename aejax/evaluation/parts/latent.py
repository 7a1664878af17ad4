"""The latent part: PCA and t-SNE scatter plots of ``E[z|x]`` on the test split."""

from __future__ import annotations

import numpy as np

from aejax.evaluation.parts.base import Context, Evaluator, Stages


def _colour(ctx: Context, n: int):
    ds = ctx.split("test")
    if ds.labels is not None:
        return ds.labels[:n], "label"
    if ds.factors is not None:
        return ds.factors[:n, 0], f"factor {ds.info.factor_names[0]}"
    return np.zeros(n, np.int32), "none"


def run(ctx: Context):
    from aejax.evaluation import latent_plots

    s = ctx.settings
    codes = ctx.codes("test")["mean"]
    n = min(s.num_plot or len(codes), len(codes))
    colour, legend = _colour(ctx, n)
    m = min(s.tsne_points, n)
    with Stages(ctx, "latent", 2 if m >= 5 else 1) as done:
        plots = latent_plots.latent_scatter_plots(
            codes[:n], colour, ctx.workdir, legend=legend, seed=ctx.seed, methods=("pca",)
        )
        done(f"PCA of {n}")
        if m >= 5:
            plots += latent_plots.latent_scatter_plots(
                codes[:m], colour[:m], ctx.workdir, legend=legend, seed=ctx.seed, methods=("tsne",)
            )
            done(f"t-SNE of {m}")
    return {"pca_points": n, "tsne_points": m if m >= 5 else 0, "coloured_by": legend}, plots


EVALUATOR = Evaluator(name="latent", run=run)
