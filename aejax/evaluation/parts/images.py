"""The images part: reconstructions, prior samples, interpolations and latent traversals."""

from __future__ import annotations

import numpy as np

from aejax.evaluation import images as grids
from aejax.evaluation.parts.base import Context, Evaluator, Stages

NUM_RECONSTRUCTIONS = 32
NUM_PRIOR_SAMPLES = 64
NUM_INTERPOLATIONS = 8


def run(ctx: Context):
    model, variables, wd = ctx.model, ctx.variables, ctx.workdir
    x = ctx.inputs("test")
    with Stages(ctx, "images", 4) as done:
        plots = [
            grids.reconstruction_grid(
                model, variables, x[:NUM_RECONSTRUCTIONS], wd / "reconstructions.png"
            )
        ]
        done("reconstructions")
        plots.append(
            grids.prior_samples_grid(
                model,
                variables,
                ctx.key("sample", 0),
                wd / "prior_samples.png",
                num=NUM_PRIOR_SAMPLES,
            )
        )
        done("prior samples")
        n = min(NUM_INTERPOLATIONS, len(x) // 2)
        if n:
            pairs = np.stack([x[:n], x[n : 2 * n]], axis=1)
            plots.append(
                grids.interpolation_grid(model, variables, pairs, wd / "interpolations.png")
            )
        done("interpolations")
        codes = ctx.codes("test")
        scores, ordered_by = np.var(codes["mean"], axis=0), "variance of E[z|x]"
        if "loc" in codes:
            scores = 0.5 * (np.exp(codes["log_var"]) + codes["loc"] ** 2 - 1 - codes["log_var"])
            scores, ordered_by = scores.mean(0), "mean KL per dim (nats)"
        plots.append(
            grids.latent_traversals(
                model, variables, x[0], wd / "latent_traversals.png", dim_scores=scores.tolist()
            )
        )
        done("latent traversals")
    return {"traversal_order": ordered_by}, plots


EVALUATOR = Evaluator(name="images", run=run)
