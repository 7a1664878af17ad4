"""Evaluate a trained run: likelihood, pictures, latent space, clustering, transfer, robustness,
anomaly detection, posterior collapse and (with ground-truth factors) disentanglement.

  python scripts/evaluate.py --workdir runs/demo [--profile quick|paper]
      [--suite all|likelihood,images,...] [--iwae_k 5000] [--iwae_num_test N] [--splits test,train]
      [--step S | --checkpoint best] [--num_test N] [--batch_size B] [--max_samples_per_call M]
      [--disentanglement_protocol aejax_v1|dlib_study_v1]

``--profile quick`` (the default) is for iterating: the negative ELBO on the whole test set, the
IWAE bound with K = min(100, eval.iwae_k) on the first 1000 test images and the other parts on
subsets (a 10-epoch vae_mnist in under a minute on 2 CPU cores). ``--profile paper`` gives the
numbers to publish: IWAE with K = eval.iwae_k (5000) on every test image and every part at full
size. A flag (``--iwae_k``, ``--iwae_num_test``, ``--tsne_points``, ``--transfer_max_train``,
...) replaces that one choice of the profile. ``eval.json`` records the profile, every setting
and which came from flags (``profile``), and per part whether it ran or why it was skipped
(``parts``); see :mod:`aejax.evaluation.profiles`. ``--disentanglement_protocol dlib_study_v1``
computes the disentanglement metrics with disentanglement_lib's ``unsupervised_study_v1``
settings (Locatello et al. 2019: its estimators and fixed sample sizes, whatever the profile)
instead of aejax's own (``aejax_v1``); ``eval.json`` and the report name the protocol
(:mod:`aejax.evaluation.disentanglement.protocols`).

Writes ``WORKDIR/eval.json`` (flat ``<split>_*`` likelihood metrics plus one section per part;
a run with a subset of ``--suite`` updates the sections it ran and keeps the others) and PNGs:
``reconstructions``, ``prior_samples``, ``interpolations``, ``latent_traversals``,
``latent_pca``, ``latent_tsne``, ``robustness``. ``python scripts/report.py --workdir WORKDIR``
turns them into a report. Unset flags take the run's ``config.eval.*`` values. Random draws come
from the run's seed: ``named_keys(seed)["eval"]`` folded with a stream per purpose, and
``["sample"]``. ``--checkpoint best`` evaluates the state ``evals.keep_best`` kept during
training (``WORKDIR/best/``) instead of the latest one.

The parts are the evaluators of :data:`aejax.evaluation.parts.EVALUATORS`, the same objects the
train loop runs periodically (``config.evals``).

Sequence runs (moving_sprites) get per-frame errors against baselines instead
(:mod:`aejax.evaluation.sequence`; ``--baseline_workdir`` names a frame-wise autoencoder run).
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

from aejax.cli import run_main

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to evaluate.")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
_CHECKPOINT = flags.DEFINE_enum(
    "checkpoint",
    "latest",
    ["latest", "best"],
    "latest: WORKDIR/checkpoints (--step picks one); best: the state WORKDIR/best/ kept by "
    "evals.keep_best (WORKDIR/best.json names its metric and step).",
)
_SUITE = flags.DEFINE_string(
    "suite",
    "all",
    "Comma-separated parts: likelihood, images, latent, clustering, transfer, robustness, "
    "anomaly, collapse, disentanglement; or all.",
)
_PROFILE = flags.DEFINE_enum(
    "profile",
    "quick",
    ["quick", "paper"],
    "quick: fast defaults for iterating; paper: IWAE K=eval.iwae_k on the whole test set and "
    "every part at full size. The flags below replace single choices of the profile.",
)
_SPLITS = flags.DEFINE_list("splits", ["test"], "Splits for the likelihood metrics.")
_IWAE_K = flags.DEFINE_integer(
    "iwae_k", None, "Importance samples per example; 0 skips IWAE (default: the profile's)."
)
_IWAE_NUM_TEST = flags.DEFINE_integer(
    "iwae_num_test",
    None,
    "IWAE on the first N examples of each split (0 = all; the ELBO is always on all).",
)
_NUM_TEST = flags.DEFINE_integer("num_test", None, "Evaluate the first N test examples only.")
_BATCH = flags.DEFINE_integer("batch_size", None, "Test examples per evaluation batch.")
_MAX_SAMPLES = flags.DEFINE_integer(
    "max_samples_per_call", None, "Bound on examples x importance samples decoded at once."
)
_NUM_PLOT = flags.DEFINE_integer("num_plot", None, "Test points in the PCA scatter plot.")
_TSNE = flags.DEFINE_integer("tsne_points", None, "Test points in the t-SNE plot (0 skips).")
_ROBUST = flags.DEFINE_integer("robust_examples", None, "Test images per robustness point.")
_TRANSFER_TRAIN = flags.DEFINE_integer(
    "transfer_max_train", None, "Cap on training examples for probes (0 = all)."
)
_FINETUNE_STEPS = flags.DEFINE_integer("finetune_steps", None, "Adam steps of fine-tuning.")
_BASELINE = flags.DEFINE_string(
    "baseline_workdir", None, "Sequence runs: a frame-wise image autoencoder run to compare with."
)
_PROTOCOL = flags.DEFINE_enum(  # aejax.evaluation.disentanglement.PROTOCOLS
    "disentanglement_protocol",
    "aejax_v1",
    ["aejax_v1", "dlib_study_v1"],
    "Estimators and sample sizes of the disentanglement metrics: aejax_v1 (aejax's, sizes from "
    "the profile) or dlib_study_v1 (disentanglement_lib's unsupervised_study_v1, fixed sizes).",
)
_PROGRESS = flags.DEFINE_bool("progress", True, "Show a progress bar on stderr.")
flags.mark_flags_as_required(["workdir"])


def _setting(flag, default, name: str, *, allow_zero: bool = False) -> int:
    from aejax.errors import ConfigError

    value = default if flag is None else flag
    if not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def main(argv: list[str]) -> None:
    del argv
    from aejax import kinds, paths
    from aejax.evaluation import suite
    from aejax.evaluation.workdir import EvalRequest

    paths.require_backend(_WORKDIR.value)
    given = {  # flags given on the command line replace the profile's choice
        name: _setting(flag.value, None, name, allow_zero=allow_zero)
        for name, flag, allow_zero in (
            ("iwae_k", _IWAE_K, True),
            ("iwae_num_test", _IWAE_NUM_TEST, True),
            ("batch_size", _BATCH, False),
            ("max_samples_per_call", _MAX_SAMPLES, False),
            ("num_plot", _NUM_PLOT, False),
            ("tsne_points", _TSNE, True),
            ("robust_examples", _ROBUST, False),
            ("transfer_max_train", _TRANSFER_TRAIN, True),
            ("finetune_steps", _FINETUNE_STEPS, False),
        )
        if flag.value is not None
    }
    request = EvalRequest(
        parts=suite.parse_suite(_SUITE.value),
        profile=_PROFILE.value,
        given=given,
        splits=tuple(_SPLITS.value),
        step=_STEP.value,
        checkpoint=_CHECKPOINT.value,
        num_test=None if _NUM_TEST.value is None else _setting(_NUM_TEST.value, 0, "num_test"),
        protocol=_PROTOCOL.value,
        progress=_PROGRESS.value,
        baseline_workdir=_BASELINE.value,
    )
    for line in kinds.evaluate(paths.resolve(_WORKDIR.value), request):  # the run's kind's
        print(line)


if __name__ == "__main__":
    # scikit-learn's OpenMP threads (t-SNE, K-means) otherwise spin while they wait: on a busy
    # 2-core machine that made t-SNE of 1000 points take 30 CPU seconds instead of 3.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.exit(run_main(app, main))
