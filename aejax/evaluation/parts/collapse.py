"""The collapse part: active units, KL per dimension and the mutual information I(x; z)."""

from __future__ import annotations

import numpy as np

from aejax.evaluation import likelihood
from aejax.evaluation.parts.base import MI_STREAM, Context, Evaluator


def run(ctx: Context):
    from aejax.evaluation import collapse

    codes = ctx.codes("test")
    out = {
        "active_units": likelihood.active_units(codes["mean"]),
        "posterior_mean_var": np.var(codes["mean"].astype(np.float64), axis=0).tolist(),
    }
    if "loc" in codes:
        kl = 0.5 * (np.exp(codes["log_var"]) + codes["loc"] ** 2 - 1 - codes["log_var"])
        out["kl_per_dim"] = kl.astype(np.float64).mean(0).tolist()
        out["mutual_information_nats"] = collapse.mutual_information(
            codes["loc"],
            codes["log_var"],
            ctx.key("eval", MI_STREAM),
            progress=ctx.settings.progress,
        )
        out["mutual_information_max_nats"] = float(np.log(len(codes["loc"])))
        out["mutual_information_estimator"] = (
            "He et al. 2019 (Lagging Inference Networks) calc_mi: E[log q(z|x)] - E[log q(z)], "
            "q(z) the mixture over all test examples, one z per x (Hoffman & Johnson 2016)"
        )
    return out, []


EVALUATOR = Evaluator(name="collapse", run=run)
