"""The transfer part: linear probes on ``E[z|x]`` and fine-tuning with few labels."""

from __future__ import annotations

import jax.numpy as jnp

from aejax.evaluation.parts.base import (
    FINETUNE_STREAM,
    INIT_STREAM,
    Context,
    Evaluator,
    Stages,
    labels_of,
    train_codes,
    train_subset,
)

FEW_LABELS = (10, 100, None)  # labels per class for the probes; None = all
FINETUNE_LABELS = (10, 100)


def run(ctx: Context):
    from aejax.evaluation import transfer

    train_y, k = labels_of(ctx, "train")
    test_y, _ = labels_of(ctx, "test")
    if train_y is None or test_y is None:
        return {"skipped": "the dataset has no labels"}, []
    idx = train_subset(ctx)
    train_x, train_y = ctx.inputs("train")[idx], train_y[idx]
    test_x = ctx.inputs("test")
    settings = transfer.FinetuneSettings(steps=ctx.settings.finetune_steps)
    stages = 2 * len(FEW_LABELS) + 2 * len(FINETUNE_LABELS) + 1
    with Stages(ctx, "transfer", stages) as done:
        codes = train_codes(ctx, idx)
        done("encoded the training set")
        probes = transfer.probe_table(
            codes,
            train_x,
            train_y,
            ctx.codes("test")["mean"],
            test_x,
            test_y,
            per_class=FEW_LABELS,
            seed=ctx.seed,
            on_done=done,
        )
        init = ctx.model.init(ctx.key("eval", INIT_STREAM), jnp.asarray(test_x[:1]))
        finetune = transfer.finetune_table(
            ctx.model,
            ctx.variables,
            init,
            train_x,
            train_y,
            test_x,
            test_y,
            per_class=FINETUNE_LABELS,
            num_classes=int(k or test_y.max() + 1),
            seed=ctx.seed,
            key=ctx.key("eval", FINETUNE_STREAM),
            settings=settings,
            on_done=done,
        )
    return {
        "train_examples": int(len(idx)),
        "test_examples": int(len(test_y)),
        "probe": "logistic regression on standardised features (scikit-learn)",
        "probe_accuracy": probes,
        "finetune": (
            f"encoder + linear head on E[z|x], Adam 1e-3, {settings.steps} steps of "
            f"{settings.batch_size}; pretrained vs fresh init"
        ),
        "finetune_accuracy": finetune,
    }, []


EVALUATOR = Evaluator(name="transfer", run=run)
