"""Evaluation and rendering for the model-family results table (scripts/family_table.py).

A row is evaluated by what it is: ``"vae"`` (likelihood bounds, KL, active units), ``"cvae"``
(the same, conditional on the label, plus how often an independent classifier recognises the
requested class in its samples), ``"m2"`` (test error of q(y|x) beside a classifier of the same
architecture trained on the same labelled examples alone) and ``"ae"`` (reconstruction, and the
copy-or-denoise ratio on corrupted test images).
"""

from __future__ import annotations

import math

import jax

from aejax import build, paths
from aejax.evaluation import classifier, conditional, denoising, likelihood
from aejax.evaluation.report import Doc
from aejax.train.restore import load_trained
from aejax.train.rng import named_keys, subkey
from aejax.train.run import stream_pools

KINDS = ("vae", "cvae", "m2", "ae")
NUM_CLASS_SAMPLES = 100  # per class, for the CVAE check
REFERENCE_CLASSIFIER_STEPS = 3000  # batch 128: ~6.4 epochs of MNIST (its accuracy: docs/)


def evaluate_row(
    workdir: paths.PathLike, *, kind: str, iwae_k: int, num_test: int, progress: bool = True
) -> dict:
    """The row's metrics as a flat dict of floats (nats per example unless named otherwise)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    run = load_trained(workdir)
    test = build.load_data(run.config, "test", num_examples=num_test)
    model, variables = run.experiment.model, run.variables
    keys = named_keys(run.experiment.seed)
    eval_key = subkey(keys["eval"], "family_iwae")
    binarize_key = subkey(keys["eval"], "family_binarize")
    images = likelihood.eval_inputs(test.images, run.experiment.binarize, binarize_key)
    out: dict = {"kind": kind, "step": run.step, "num_test": len(test)}

    if kind in ("vae", "cvae", "ae"):
        metrics = likelihood.evaluate_split(
            model,
            variables,
            images,
            eval_key,
            iwae_k=0 if kind == "ae" else iwae_k,
            batch_size=run.experiment.eval.batch_size,
            max_samples_per_call=run.experiment.eval.max_samples_per_call,
            labels=test.labels if kind == "cvae" else None,
            progress=progress,
        )
        out.update({k: v for k, v in metrics.items() if not isinstance(v, list)})
        out["iwae_k"] = iwae_k if kind != "ae" else 0
    if kind == "ae":
        for corruption, level in (("gaussian", 0.3), ("masking", 0.5)):
            ratio = denoising.denoising_ratio(
                model, variables, images, subkey(eval_key, corruption), kind=corruption, level=level
            )
            out[f"denoise_{corruption}_ratio"] = ratio["ratio"]
    if kind == "cvae":
        train = build.load_data(run.config, "train")
        judge = classifier.train_classifier(
            likelihood.eval_inputs(train.images, run.experiment.binarize, binarize_key),
            train.labels,
            model.num_classes,
            subkey(keys["eval"], "reference_classifier"),
            num_steps=REFERENCE_CLASSIFIER_STEPS,
        )
        out["reference_classifier_test_error"] = classifier.error_rate(judge(images), test.labels)
        samples = conditional.class_conditional_samples(
            model, variables, keys["sample"], NUM_CLASS_SAMPLES
        )
        conditional.save_class_grid(samples[:, :10], paths.resolve(workdir) / "class_samples.png")
        out["conditional_sample_accuracy"] = conditional.conditional_sample_accuracy(
            samples, judge
        )["accuracy"]
    if kind == "m2":
        predicted = conditional.classifier_predictions(model, variables, images)
        out["test_error"] = classifier.error_rate(predicted, test.labels)
        train = build.load_data(run.config, "train")
        pool = stream_pools(run.experiment, train)["labelled"]
        alone = classifier.train_classifier(
            likelihood.eval_inputs(train.images[pool], run.experiment.binarize, binarize_key),
            train.labels[pool],
            model.num_classes,
            subkey(keys["eval"], "labelled_only_classifier"),
            hidden=run.experiment.classifier_hidden,
            num_steps=REFERENCE_CLASSIFIER_STEPS,
            batch_size=len(pool),
        )
        out["labelled_only_test_error"] = classifier.error_rate(alone(images), test.labels)
        out["num_labelled"] = len(pool)
    jax.clear_caches()  # rows build different models: do not keep every row's executables
    return out


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def check(results: dict, spec: dict) -> str:
    """One expectation, evaluated: ``"yes"``, ``"NO"`` or ``"not run"``."""
    metric = spec["metric"]
    left = results.get(spec["row"], {}).get(metric)
    if "than" in spec:
        right = results.get(spec["than"], {}).get(spec.get("than_metric", metric))
    else:
        right = spec["value"]
    if left is None or right is None:
        return "not run"
    ok = left < right if spec["op"] == "<" else left > right if spec["op"] == ">" else left >= right
    return "yes" if ok else "NO"


def _rows_of(kind: str, rows: dict, results: dict) -> list[tuple[str, dict, dict]]:
    kinds = (kind,) if isinstance(kind, str) else kind
    return [(n, rows[n], results[n]) for n in rows if n in results and results[n]["kind"] in kinds]


def render_table(
    rows: dict, results: dict, published: list, expectations: list, *, command: str
) -> str:
    """The Markdown report: likelihood table, label-aware rows, autoencoders, expectations and
    published numbers. ``results`` maps row name to its ``family.json``; rows without results
    are left out, expectations on them read ``not run``."""
    any_result = next(iter(results.values()), {})
    settings = any_result.get("settings", {})
    steps = settings.get("steps")
    budget = f"{steps} steps" if steps else f"{settings.get('epochs', '?')} epochs"
    doc = Doc("Model family on MNIST: results at one budget")
    doc.para(f"Produced by `{command}`.")
    doc.para(
        f"Budget: {budget} per row (batch size and optimizer as in each row's config), evaluated "
        f"on the first {settings.get('num_test', '?')} test images; test NLL is the IWAE bound "
        f"with K={settings.get('iwae_k', '?')} importance samples. Device: "
        f"{any_result.get('device', '?')}. Nats per example; dynamic binarisation (training) and "
        "one fixed binarisation of the test set."
    )
    missing = [name for name in rows if name not in results]
    if missing:
        doc.para(f"Rows without results at this budget yet: {', '.join(missing)}.")
    doc.heading("VAE family")
    doc.table(
        ["row", "what", "test NLL (IWAE)", "−ELBO", "KL", "active units", "train s"],
        [
            [
                name,
                row["what"],
                _fmt(r.get("iwae_nll_nats")),
                _fmt(r.get("neg_elbo_nats")),
                _fmt(r.get("kl_nats")),
                r.get("active_units", "–"),
                _fmt(r.get("train_wall_time_s"), 0),
            ]
            for name, row, r in _rows_of(("vae", "cvae"), rows, results)
        ],
    )
    m2 = _rows_of("m2", rows, results)
    if m2:
        doc.heading("Semi-supervised (M2)")
        doc.table(
            ["row", "labels", "test error", "same classifier on the labels alone"],
            [
                [
                    n,
                    r["num_labelled"],
                    f"{100 * r['test_error']:.2f}%",
                    f"{100 * r['labelled_only_test_error']:.2f}%",
                ]
                for n, _, r in m2
            ],
        )
    cvae = _rows_of("cvae", rows, results)
    if cvae:
        doc.heading("Conditional samples")
        doc.table(
            ["row", "samples classified as the requested class", "reference classifier error"],
            [
                [
                    n,
                    f"{100 * r['conditional_sample_accuracy']:.1f}%",
                    f"{100 * r['reference_classifier_test_error']:.2f}%",
                ]
                for n, _, r in cvae
            ],
        )
    ae = _rows_of("ae", rows, results)
    if ae:
        doc.heading("Deterministic autoencoders")
        doc.para(
            "Denoising ratio = MSE(reconstruction of the corrupted image, clean image) / "
            "MSE(corrupted image, clean image): 1 for a model that copies its input, below 1 for "
            "one that maps inputs back towards the data (Gaussian σ=0.3, clipped; masking 50%)."
        )
        doc.table(
            [
                "row",
                "what",
                "code size",
                "recon (nats)",
                "recon MSE",
                "ratio, Gaussian",
                "ratio, mask",
            ],
            [
                [
                    n,
                    row["what"],
                    row.get("code", "–"),
                    _fmt(r.get("recon_nats")),
                    _fmt(r.get("recon_mse"), 4),
                    _fmt(r.get("denoise_gaussian_ratio"), 3),
                    _fmt(r.get("denoise_masking_ratio"), 3),
                ]
                for n, row, r in ae
            ],
        )
    doc.heading("What the methods are known to do")
    doc.table(["expectation", "holds here"], [[e["text"], check(results, e)] for e in expectations])
    doc.heading("Published numbers (their protocols, far longer training)")
    doc.table(
        ["method", "published", "protocol", "source"],
        [[p["method"], p["value"], p["protocol"], p["source"]] for p in published],
    )
    return doc.markdown(paths.resolve("."))
