"""The anomaly part: scoring a class held out of training by per-example ELBO and errors."""

from __future__ import annotations

from aejax.evaluation import likelihood
from aejax.evaluation.parts.base import IWAE_STREAM, Context, Evaluator, labels_of


def run(ctx: Context):
    from aejax.evaluation import anomaly

    held_out = ctx.run.experiment.data.exclude_class
    if held_out < 0:
        return {
            "skipped": "the run holds no class out of training (train with "
            "--config.data.exclude_class=C to score finding class C)"
        }, []
    labels, _ = labels_of(ctx, "test")
    per_example = likelihood.per_example_metrics(
        ctx.model,
        ctx.variables,
        ctx.inputs("test"),
        ctx.key("eval", IWAE_STREAM),
        batch_size=ctx.settings.batch_size,
        progress=ctx.settings.progress,
        desc="anomaly",
    )
    scores = {"recon_mse": per_example["recon_mse"]}
    if "neg_elbo_nats" in per_example:
        scores["neg_elbo"] = per_example["neg_elbo_nats"]
    else:
        scores["recon_nats"] = per_example["recon_nats"]
    return {
        "held_out_class": held_out,
        "scores": anomaly.anomaly_table(labels, held_out, scores),
    }, []


EVALUATOR = Evaluator(name="anomaly", run=run)
