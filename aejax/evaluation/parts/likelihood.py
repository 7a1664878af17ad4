"""The likelihood part: negative ELBO, IWAE bound, reconstruction and bits/dim per split.

Its results hold the flat ``<split>_<metric>`` keys of ``eval.json``; its scalars are the ones the
train loop logs periodically (``<split>/<metric>`` in ``metrics.jsonl``)."""

from __future__ import annotations

import time

from aejax.evaluation import likelihood
from aejax.evaluation.parts.base import IWAE_STREAM, Context, Evaluator


def run(ctx: Context):
    s = ctx.settings
    iwae_k = 0 if ctx.deterministic else s.iwae_k
    flat, notes = {}, []
    if ctx.deterministic:
        notes.append(
            "deterministic autoencoder (Delta posterior, no density): ELBO, IWAE and "
            "bits/dim are not defined; reconstruction metrics only"
        )
    for split in s.splits:
        start = time.perf_counter()
        metrics = likelihood.evaluate_split(
            ctx.model,
            ctx.variables,
            ctx.inputs(split),
            ctx.key("eval", IWAE_STREAM),
            iwae_k=iwae_k,
            iwae_num_examples=s.iwae_num_test or None,
            batch_size=s.batch_size,
            max_samples_per_call=s.max_samples_per_call,
            progress=s.progress,
        )
        metrics["wall_time_s"] = time.perf_counter() - start
        for name, value in metrics.items():
            flat[f"{split}_{name}"] = value
        summary = ", ".join(
            f"{n} {metrics[n]:.4g}"
            for n in ("iwae_nll_nats", "neg_elbo_nats", "recon_nats", "recon_mse", "bits_per_dim")
            if n in metrics
        )
        iwae_on = ""
        if iwae_k and metrics["iwae_num_examples"] < metrics["num_examples"]:
            iwae_on = f" (IWAE on the first {metrics['iwae_num_examples']})"
        if not s.quiet:
            print(
                f"{split}: {metrics['num_examples']} examples, K={iwae_k}{iwae_on}: {summary}",
                flush=True,
            )
        if metrics["bits_per_dim_kind"] is None and not ctx.deterministic:
            notes.append(f"{split}: no bits/dim: {metrics['bits_per_dim_reason']}")
        if iwae_k and metrics["iwae_num_examples"] < metrics["num_examples"]:
            notes.append(
                f"{split}: IWAE (K={iwae_k}) on the first {metrics['iwae_num_examples']} of "
                f"{metrics['num_examples']} examples (compare it with "
                f"{split}_neg_elbo_nats_on_iwae_examples); bits/dim from the negative ELBO of all"
            )
    flat["iwae_k"] = iwae_k
    if ctx.run.experiment.binarize == "dynamic":
        notes.append("images binarised once with a fixed per-example key (epoch 0)")
    return {"flat": flat, "notes": notes}, []


# Per-split metrics logged during training, all lower-is-better but the two marked.
SCALARS = (
    "neg_elbo_nats",
    "iwae_nll_nats",
    "neg_elbo_nats_on_iwae_examples",
    "kl_nats",
    "recon_nats",
    "recon_mse",
    "bits_per_dim",
    "active_units",
)
NO_DIRECTION = ("kl_nats", "active_units")  # neither more nor less is better: never keep_best


def scalars(results: dict, splits: tuple[str, ...]) -> dict[str, float]:
    """``{"<split>/<metric>": value}`` of :data:`SCALARS` that ``results`` (of :func:`run`) has."""
    flat = results["flat"]
    return {
        f"{split}/{name}": float(flat[f"{split}_{name}"])
        for split in splits
        for name in SCALARS
        if flat.get(f"{split}_{name}") is not None
    }


EVALUATOR = Evaluator(
    name="likelihood",
    run=run,
    scalars=scalars,
    lower_is_better=tuple(n for n in SCALARS if n not in NO_DIRECTION),
)
