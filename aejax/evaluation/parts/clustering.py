"""The clustering part: K-means on ``E[z|x]``, raw pixels and PCA of pixels, scored on labels."""

from __future__ import annotations

import numpy as np

from aejax.evaluation.parts.base import Context, Evaluator, Stages, labels_of


def run(ctx: Context):
    from aejax.evaluation import clustering

    s = ctx.settings
    labels, k = labels_of(ctx, "test")
    if labels is None:
        return {"skipped": "the dataset has no labels"}, []
    n = min(s.cluster_examples or len(labels), len(labels))
    labels = labels[:n]
    k = int(k or len(np.unique(labels)))
    with Stages(ctx, "clustering", 3) as done:
        table = clustering.clustering_table(
            ctx.codes("test")["mean"][:n],
            ctx.inputs("test")[:n],
            labels,
            num_clusters=k,
            seed=ctx.seed,
            n_init=s.kmeans_n_init,
            on_done=done,
        )
    return {
        "num_clusters": k,
        "num_examples": int(n),
        "split": "test",
        "features": (
            f"K-means (scikit-learn, n_init={s.kmeans_n_init}) on E[z|x], raw pixels, PCA of "
            f"pixels; the first {n} test examples"
        ),
        "scores": table,
    }, []


EVALUATOR = Evaluator(name="clustering", run=run)
