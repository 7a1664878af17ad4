"""Evaluate a trained run on its test split: likelihood bounds, reconstructions and samples.

  python scripts/evaluate.py --workdir runs/demo [--iwae_k 5000] [--step S] [--num_test N]
      [--batch_size B] [--max_samples_per_call M]

Writes ``WORKDIR/eval.json`` (metrics prefixed ``test_``), ``reconstructions.png``,
``prior_samples.png`` and, for datasets with ground-truth factors, ``latent_traversals.png``.
Unset flags take the run's ``config.eval.*`` values. Random draws come from the run's seed:
``named_keys(seed)["eval"]`` (importance samples, dynamic binarisation) and ``["sample"]``.
"""

from __future__ import annotations

import sys

from absl import app, flags

from aejax.cli import run_main

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to evaluate.")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
_IWAE_K = flags.DEFINE_integer("iwae_k", None, "Importance samples per example; 0 skips IWAE.")
_NUM_TEST = flags.DEFINE_integer("num_test", None, "Evaluate the first N test examples only.")
_BATCH = flags.DEFINE_integer("batch_size", None, "Test examples per evaluation batch.")
_MAX_SAMPLES = flags.DEFINE_integer(
    "max_samples_per_call", None, "Bound on examples x importance samples decoded at once."
)
_PROGRESS = flags.DEFINE_bool("progress", True, "Show a progress bar on stderr.")
flags.mark_flags_as_required(["workdir"])

NUM_RECONSTRUCTIONS = 32
NUM_PRIOR_SAMPLES = 64
# Distinct streams derived from the run's "eval" key.
_IWAE_STREAM, _BINARIZE_STREAM = 0, 1


def _setting(flag, default, name: str, *, allow_zero: bool = False) -> int:
    from aejax.errors import ConfigError

    value = default if flag is None else flag
    if not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def main(argv: list[str]) -> None:
    del argv
    import json
    import pathlib
    import time

    import jax

    from aejax import build
    from aejax.errors import DataError
    from aejax.evaluation import images, likelihood
    from aejax.train.restore import load_trained
    from aejax.train.rng import named_keys

    workdir = pathlib.Path(_WORKDIR.value)
    from aejax.graph.build import is_graph_config
    from aejax.train.restore import load_config

    if is_graph_config(load_config(workdir)):  # GAE/VGAE: link prediction and clustering
        from aejax.graph.evaluate import describe, evaluate_graph

        print(describe(evaluate_graph(workdir)) + f"; wrote {workdir / 'eval.json'}")
        return
    run = load_trained(workdir, step=_STEP.value)
    cfg = run.config
    iwae_k = _setting(_IWAE_K.value, cfg.eval.iwae_k, "iwae_k", allow_zero=True)
    batch_size = _setting(_BATCH.value, cfg.eval.batch_size, "batch_size")
    max_samples = _setting(
        _MAX_SAMPLES.value, cfg.eval.max_samples_per_call, "max_samples_per_call"
    )
    if _NUM_TEST.value is not None:
        cfg = cfg.copy_and_resolve_references()
        cfg.data.num_test = _setting(_NUM_TEST.value, 0, "num_test")
    test = build.load_data(cfg, "test")
    if tuple(test.images.shape[1:]) != tuple(run.image_shape):
        raise DataError(
            f"test images are shaped {tuple(test.images.shape[1:])} but the model in {workdir} "
            f"was trained on {tuple(run.image_shape)}; check data.name and data.shapes"
        )

    model, variables = run.experiment.model, run.variables
    keys = named_keys(run.experiment.seed)
    binarize = run.experiment.binarize
    eval_key = jax.random.fold_in(keys["eval"], _IWAE_STREAM)
    binarize_key = jax.random.fold_in(keys["eval"], _BINARIZE_STREAM)
    deterministic = cfg.objective.name == "reconstruction" or cfg.model.posterior == "delta"
    notes = []
    if deterministic:
        notes.append(
            "deterministic autoencoder (Delta posterior, no density): ELBO, IWAE and "
            "bits/dim are not defined; reconstruction metrics only; prior_samples.png "
            "decodes z ~ N(0, I), a prior this model was not trained to match"
        )
        iwae_k = 0
    elif iwae_k == 0:
        notes.append("iwae_k=0: IWAE skipped; bits_per_dim uses the negative ELBO")
    if binarize == "dynamic":
        notes.append("test images binarised once with a fixed per-example key (epoch 0)")

    start = time.perf_counter()
    metrics = likelihood.evaluate_split(
        model,
        variables,
        test.images,
        eval_key,
        iwae_k=iwae_k,
        batch_size=batch_size,
        max_samples_per_call=max_samples,
        binarize=binarize,
        binarize_key=binarize_key,
        progress=_PROGRESS.value,
    )
    wall = time.perf_counter() - start

    result = {f"test_{name}": value for name, value in metrics.items() if name != "num_examples"}
    for name in ("neg_elbo_nats", "iwae_nll_nats", "recon_mse"):
        result.setdefault(f"test_{name}", None)
    result.update(
        step=run.step,
        iwae_k=iwae_k,
        num_test=metrics["num_examples"],
        batch_size=batch_size,
        max_samples_per_call=max_samples,
        binarize=binarize,
        dataset=cfg.data.name,
        eval_wall_time_s=wall,
        notes=notes,
    )
    eval_path = workdir / "eval.json"
    eval_path.write_text(json.dumps(result, indent=2) + "\n")

    shown = likelihood.eval_inputs(test.images[:NUM_RECONSTRUCTIONS], binarize, binarize_key)
    written = [
        eval_path,
        images.reconstruction_grid(model, variables, shown, workdir / "reconstructions.png"),
        images.prior_samples_grid(
            model, variables, keys["sample"], workdir / "prior_samples.png", num=NUM_PRIOR_SAMPLES
        ),
    ]
    if test.info.factor_names:
        scores = metrics.get("kl_per_dim", metrics["posterior_mean_var"])
        written.append(
            images.latent_traversals(
                model, variables, shown[0], workdir / "latent_traversals.png", dim_scores=scores
            )
        )

    summary = ", ".join(
        f"{name} {metrics[name]:.4g}"
        for name in ("iwae_nll_nats", "neg_elbo_nats", "recon_nats", "recon_mse", "bits_per_dim")
        if name in metrics
    )
    print(
        f"step {run.step}, {metrics['num_examples']} test examples, K={iwae_k}: {summary} "
        f"({wall:.1f} s)"
    )
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_main(app, main))
