"""Conv-type comparison: one conv VAE per conv type on MNIST and Fashion-MNIST, equal budget.

  python scripts/conv_table.py --out results/conv_table [--steps 1200] [--num_train 10000]
      [--datasets mnist,fashion-mnist] [--variants standard,separable,...]

For each dataset and variant of ``experiments/conv_vae.py`` it trains ``--steps`` steps of batch
64 on the first ``--num_train`` training images (dynamically binarised), then reports:

* parameters (all of the model's);
* FLOPs per example of one training step (forward, backward and Adam), from XLA's cost analysis
  of the jitted step (``jax.jit(step).lower(...).compile().cost_analysis()["flops"] / batch``);
* training examples/s, measured after compilation (wall clock; the load average is recorded);
* the encoder's receptive field (pixels per axis of one unit of its last conv feature map);
* the test negative ELBO (nats, the whole test split binarised once with a fixed key, one
  posterior sample per example, analytic KL).

Writes ``OUT.json`` (every number plus the settings and machine) and ``OUT.md`` (the table).
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import sys
import time

from absl import app, flags

# This checkout's aejax and experiments/, whichever aejax is installed.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

_OUT = flags.DEFINE_string("out", "results/conv_table", "Output path without extension.")
_STEPS = flags.DEFINE_integer("steps", 1200, "Training steps per run (batch 64).")
_NUM_TRAIN = flags.DEFINE_integer("num_train", 10000, "Training images (the first N).")
_DATASETS = flags.DEFINE_list("datasets", ["mnist", "fashion-mnist"], "IDX dataset names.")
_VARIANTS = flags.DEFINE_list("variants", None, "Subset of VARIANTS (default: all).")
_SEED = flags.DEFINE_integer("seed", 0, "Root seed of every run.")

# name -> (overrides of model.encoder / model.decoder, what the row shows)
VARIANTS: dict[str, tuple[dict, dict, str]] = {
    "standard": ({}, {}, "4x4 stride-2 convs; decoder resize + 3x3 conv"),
    "separable": (
        {"conv": "separable"},
        {"conv": "separable"},
        "depthwise 4x4 + pointwise 1x1; decoder resize + separable 3x3",
    ),
    "dilated": (
        {"conv": "dilated"},
        {"conv": "dilated"},
        "dilation 2 in every conv (4x4 spans 7x7, 3x3 spans 5x5)",
    ),
    "transposed": ({}, {"upsample": "transpose"}, "decoder 4x4 stride-2 transposed convs"),
    "residual": (
        {"blocks": 1},
        {"blocks": 1},
        "standard + 1 pre-activation residual block (two 3x3) per stage",
    ),
    "van": (
        {"blocks": 1, "block": "van"},
        {},
        "standard + 1 VAN large-kernel attention block per encoder stage",
    ),
    "residual_bn_dropout": (
        {"blocks": 1, "norm": "batch", "dropout": 0.1},
        {"blocks": 1, "norm": "batch", "dropout": 0.1},
        "residual + batch norm + dropout 0.1 on hidden layers",
    ),
}
BATCH = 64


def _config(dataset: str, variant: str):
    from experiments.conv_vae import get_config

    c = get_config()
    c.seed = _SEED.value
    c.data.name = dataset
    c.data.num_train = _NUM_TRAIN.value
    c.train.batch_size = BATCH
    c.train.num_epochs = 0
    c.train.num_steps = _STEPS.value
    enc, dec, _ = VARIANTS[variant]
    c.model.encoder.update(enc)
    c.model.decoder.update(dec)
    return c


def _run(dataset: str, variant: str, data_cache: dict) -> dict:
    import jax
    import numpy as np

    from aejax import build
    from aejax.evaluation import likelihood
    from aejax.train.epochs import make_batch_fn
    from aejax.train.run import make_run
    from aejax.train.state import count_params

    config = _config(dataset, variant)
    if dataset not in data_cache:
        data_cache[dataset] = (build.load_data(config, "train"), build.load_data(config, "test"))
    train, test = data_cache[dataset]
    run = make_run(config, train_ds=train, mesh=None)  # one device, as the table reports
    exp, keys, state = run.experiment, run.keys, run.state

    batch = make_batch_fn(len(train), BATCH, exp.binarize, keys["data"], keys["binarize"])(
        run.data, jax.numpy.int32(0)
    )
    lowered = jax.jit(run.step_fn).lower(state, batch, keys["train"], run.hparams)
    cost = lowered.compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    flops = float(cost["flops"]) / BATCH

    t0 = time.perf_counter()
    compiled = run.runner.lower(*run.runner_args(state, run.chunk_len)).compile()
    compile_s = time.perf_counter() - t0
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    done, losses = 0, []
    while done < exp.train.num_steps:
        n = min(run.chunk_len, exp.train.num_steps - done)
        state, metrics = compiled(*run.runner_args(state, n))
        metrics = jax.device_get(metrics)
        if not metrics["finite"][metrics["active"]].all():
            raise RuntimeError(f"{dataset}/{variant}: non-finite loss during training")
        losses.extend(metrics["loss"][metrics["active"]].tolist())
        done += n
    jax.block_until_ready(state.params)
    train_s = time.perf_counter() - t0
    load_after = os.getloadavg()[0]

    eval_key = jax.random.fold_in(keys["eval"], 0)
    metrics = likelihood.evaluate_split(
        exp.model,
        {"params": state.params, **state.model_state},
        test.images,
        eval_key,
        iwae_k=0,
        batch_size=1000,
        binarize=exp.binarize,
        binarize_key=jax.random.fold_in(keys["eval"], 1),
        progress=False,
    )
    return {
        "dataset": dataset,
        "variant": variant,
        "description": VARIANTS[variant][2],
        "params": count_params(state.params),
        "train_step_mflops_per_example": flops / 1e6,
        "train_examples_per_s": exp.train.num_steps * BATCH / train_s,
        "compile_s": compile_s,
        "receptive_field": int(exp.model.encoder.receptive_field()),
        "test_neg_elbo_nats": metrics["neg_elbo_nats"],
        "test_kl_nats": metrics["kl_nats"],
        "final_train_loss": float(np.mean(losses[-50:])),
        "load_average": [load_before, load_after],
    }


def _markdown(rows: list[dict], settings: dict) -> str:
    lines = [
        f"Produced by `python {settings['command']}`.",
        "",
        f"Budget: {settings['steps']} steps of batch {BATCH} on the first "
        f"{settings['num_train']} training images (dynamically binarised), Adam 1e-3, seed "
        f"{settings['seed']}; test negative ELBO over the whole test split (10,000 images). "
        f"Machine: {settings['machine']}.",
        "",
        "| dataset | conv type | params | train MFLOP/example | examples/s | receptive field "
        "(px) | test -ELBO (nats) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['variant']} | {r['params']:,} | "
            f"{r['train_step_mflops_per_example']:.2f} | {r['train_examples_per_s']:,.0f} | "
            f"{r['receptive_field']} | {r['test_neg_elbo_nats']:.2f} |"
        )
    lines += ["", "Rows:", ""]
    lines += [f"- `{name}`: {desc}" for name, (_, _, desc) in VARIANTS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    del argv
    import jax

    variants = _VARIANTS.value or list(VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"error: unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    settings = {
        "steps": _STEPS.value,
        "num_train": _NUM_TRAIN.value,
        "batch_size": BATCH,
        "seed": _SEED.value,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"jax {jax.__version__} on {jax.devices()[0].platform}",
        "command": " ".join(sys.argv),
    }
    rows, cache = [], {}
    for dataset in _DATASETS.value:
        for variant in variants:
            row = _run(dataset, variant, cache)
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = pathlib.Path(_OUT.value)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"settings": settings, "rows": rows}, indent=2))
    table = _markdown(rows, settings)
    out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    app.run(main)
