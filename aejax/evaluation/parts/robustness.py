"""The robustness part: reconstruction error and probe accuracy under growing corruptions."""

from __future__ import annotations

import jax

from aejax.evaluation.likelihood import model_fns
from aejax.evaluation.parts.base import (
    ROBUST_STREAM,
    Context,
    Evaluator,
    Stages,
    labels_of,
    train_codes,
    train_subset,
)


def run(ctx: Context):
    from aejax.evaluation import robustness, transfer

    model, variables = ctx.model, ctx.variables
    encode, decode, _ = model_fns(model, variables)
    encode_mean = jax.jit(lambda x: encode(x).mean())
    reconstruct = jax.jit(lambda x: decode(encode(x).mean()).mean())
    n = min(ctx.settings.robust_examples or len(ctx.split("test")), len(ctx.split("test")))
    x = ctx.inputs("test")[:n]
    test_y, _ = labels_of(ctx, "test")
    probe = None
    if test_y is not None and ctx.split("train").labels is not None:
        idx = train_subset(ctx)
        probe = transfer.fit_probe(train_codes(ctx, idx), ctx.split("train").labels[idx])
    with Stages(ctx, "robustness", robustness.num_points()) as done:
        curves = robustness.robustness_curves(
            x,
            None if test_y is None else test_y[:n],
            encode_mean,
            reconstruct,
            probe,
            ctx.key("eval", ROBUST_STREAM),
            on_done=done,
        )
    path = ctx.workdir / "robustness.png"
    robustness.plot_curves(curves, path)
    return {"num_examples": n, "curves": curves}, [path]


EVALUATOR = Evaluator(name="robustness", run=run)
