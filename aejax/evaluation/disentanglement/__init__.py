"""Disentanglement metrics against ground-truth factors (the ``shapes`` dataset).

Six metrics, one module each, every one a pure function of codes and factors (``*_from_codes``)
behind a wrapper that samples from a :class:`GroundTruth` (``compute_*``):

- ``beta_vae`` (``beta_vae_score``): ``train_accuracy``, ``eval_accuracy``
- ``factor_vae`` (``factor_vae_score``): ``train_accuracy``, ``eval_accuracy``,
  ``num_active_dims``
- ``mig`` (``mig``): ``mig``
- ``dci`` (``dci``): ``disentanglement``, ``completeness``, ``informativeness_train``,
  ``informativeness_test``
- ``sap`` (``sap``): ``sap``
- ``modularity`` (``modularity``): ``modularity``, ``explicitness_train``, ``explicitness_test``

:func:`compute_all` scores a ``representation_fn`` on ``shapes`` with all six under a named
:class:`Protocol` (``aejax_v1``, the default, or ``dlib_study_v1``, disentanglement_lib's study
settings; see :mod:`.protocols`); :func:`ica_baseline` and :func:`ica_on_codes` score the FastICA
baselines the same way.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from aejax.evaluation.disentanglement._ground_truth import (
    ENCODE_BATCH,
    GroundTruth,
    RepresentationFn,
    sample_codes,
    shapes_ground_truth,
    sklearn_seed,
)
from aejax.evaluation.disentanglement.beta_vae_score import beta_vae_from_codes, compute_beta_vae
from aejax.evaluation.disentanglement.dci import compute_dci, dci_from_codes
from aejax.evaluation.disentanglement.factor_vae_score import (
    compute_factor_vae,
    factor_vae_from_codes,
)
from aejax.evaluation.disentanglement.ica import code_ica, pixel_ica
from aejax.evaluation.disentanglement.mig import compute_mig, mig_from_codes
from aejax.evaluation.disentanglement.modularity import compute_modularity, modularity_from_codes
from aejax.evaluation.disentanglement.protocols import (
    DEFAULT_PROTOCOL,
    PROTOCOLS,
    Protocol,
    get_protocol,
)
from aejax.evaluation.disentanglement.sap import compute_sap, sap_from_codes

METRICS = ("beta_vae", "factor_vae", "mig", "dci", "sap", "modularity")
_STREAMS = ("codes", "beta_vae", "factor_vae", "dci", "sap", "ica")


def _streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """One independent seed sequence per purpose, all fixed by ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    return dict(zip(_STREAMS, children, strict=True))


def compute_all_on(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    num_train: int | None = None,
    num_test: int | None = None,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """All six metrics of ``representation_fn`` on ``ground_truth`` (see :func:`compute_all`);
    ``protocol`` may also be a :class:`Protocol` itself (then ``num_train``/``num_test`` are
    ignored)."""
    if not isinstance(protocol, Protocol):
        protocol = get_protocol(protocol, num_train=num_train, num_test=num_test)
    p, streams = protocol, _streams(seed)
    num_train, num_test = p.num_train, p.num_test
    out: dict[str, dict[str, float]] = {}
    with tqdm(
        total=len(METRICS), desc="disentanglement", file=sys.stderr, disable=not progress
    ) as bar:
        bar.set_postfix_str("encoding")
        rng = np.random.default_rng(streams["codes"])
        codes, factors = sample_codes(ground_truth, representation_fn, rng, num_train + num_test)
        split = (codes[:num_train], factors[:num_train], codes[num_train:], factors[num_train:])
        seeds = {k: sklearn_seed(np.random.default_rng(streams[k])) for k in ("dci", "sap")}
        opts = {name: p.options(name, ground_truth.categorical) for name in METRICS}
        stages = {
            "beta_vae": lambda: compute_beta_vae(
                ground_truth,
                representation_fn,
                seed=streams["beta_vae"],
                batch_size=p.batch_size,
                num_train=p.beta_vae_num_train,
                num_eval=p.beta_vae_num_eval,
                **opts["beta_vae"],
            ),
            "factor_vae": lambda: compute_factor_vae(
                ground_truth,
                representation_fn,
                seed=streams["factor_vae"],
                batch_size=p.batch_size,
                num_train=p.factor_vae_num_train,
                num_eval=p.factor_vae_num_eval,
                num_variance_estimate=p.factor_vae_num_variance_estimate,
                **opts["factor_vae"],
            ),
            "mig": lambda: mig_from_codes(*split[:2], **opts["mig"]),
            "dci": lambda: dci_from_codes(*split, seed=seeds["dci"], **opts["dci"]),
            "sap": lambda: sap_from_codes(*split, seed=seeds["sap"], **opts["sap"]),
            "modularity": lambda: modularity_from_codes(*split, **opts["modularity"]),
        }
        for name in METRICS:
            bar.set_postfix_str(name)
            out[name] = stages[name]()
            bar.update(1)
    return out


def compute_all(
    representation_fn: RepresentationFn,
    *,
    resolution: int,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    num_train: int | None = None,
    num_test: int | None = None,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """Scores a representation of ``shapes`` sprites with all six disentanglement metrics.

    Factors are sampled uniformly from the shapes grid and rendered at ``resolution``; everything
    is a deterministic function of ``seed`` (and of ``representation_fn``).

    Sample sizes come from the protocol. Under ``aejax_v1`` MIG, DCI, SAP and modularity share
    one i.i.d. sample of ``num_train`` training and ``num_test`` test combinations (MIG and
    modularity use the training part; defaults 10,000 and 5,000). The BetaVAE score uses
    ``num_train // 10`` training and ``num_test // 10`` evaluation points of 64 pairs; the
    FactorVAE score as many votes of 64-image batches plus ``num_train // 2`` images for the
    variances: 15,000 + 192,000 + 101,000 encoded images at the defaults (how long that takes:
    docs/performance.md). ``dlib_study_v1`` fixes the study's sizes (15,000 + 1,920,000 + 970,000
    images) and fits gradient-boosted trees, one per factor: many times longer.

    Args:
      representation_fn: images ``float32[N, H, W, 1]`` in [0, 1] -> codes ``[N, D]`` (e.g.
        posterior means, the study's ``mean`` representation). Called on batches of exactly
        :data:`ENCODE_BATCH` images.
      resolution: image side in pixels (the model's input size).
      seed: root seed of every sample and classifier.
      protocol: a name from :data:`PROTOCOLS` or a :class:`Protocol`.
      num_train, num_test: the sizes of a protocol whose sizes are free (see above).
      progress: show a progress bar on stderr.

    Returns:
      ``{metric: {value name: float}}`` for the metrics in :data:`METRICS`.
    """
    return compute_all_on(
        shapes_ground_truth(resolution),
        representation_fn,
        seed=seed,
        protocol=protocol,
        num_train=num_train,
        num_test=num_test,
        progress=progress,
    )


def ica_baseline(
    *,
    resolution: int,
    seed: int,
    num_components: int = 10,
    num_fit: int = 10_000,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    num_train: int | None = None,
    num_test: int | None = None,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """:func:`compute_all` for FastICA on PCA of the pixels (``num_components`` sources, fitted
    on ``num_fit`` extra sprites drawn from ``seed``)."""
    ground_truth = shapes_ground_truth(resolution)
    fit_seed = _streams(seed)["ica"]
    representation_fn = pixel_ica(
        ground_truth, num_components=num_components, seed=fit_seed, num_fit=num_fit
    )
    return compute_all_on(
        ground_truth,
        representation_fn,
        seed=seed,
        protocol=protocol,
        num_train=num_train,
        num_test=num_test,
        progress=progress,
    )


def ica_on_codes(
    representation_fn: RepresentationFn,
    *,
    resolution: int,
    seed: int,
    num_components: int | None = None,
    num_fit: int = 10_000,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    num_train: int | None = None,
    num_test: int | None = None,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """:func:`compute_all` for ``representation_fn`` followed by FastICA fitted on its codes."""
    ground_truth = shapes_ground_truth(resolution)
    unmixed = code_ica(
        ground_truth,
        representation_fn,
        seed=_streams(seed)["ica"],
        num_components=num_components,
        num_fit=num_fit,
    )
    return compute_all_on(
        ground_truth,
        unmixed,
        seed=seed,
        protocol=protocol,
        num_train=num_train,
        num_test=num_test,
        progress=progress,
    )


__all__ = [
    "DEFAULT_PROTOCOL",
    "ENCODE_BATCH",
    "METRICS",
    "PROTOCOLS",
    "GroundTruth",
    "Protocol",
    "beta_vae_from_codes",
    "code_ica",
    "compute_all",
    "compute_all_on",
    "compute_beta_vae",
    "compute_dci",
    "compute_factor_vae",
    "compute_mig",
    "compute_modularity",
    "compute_sap",
    "dci_from_codes",
    "factor_vae_from_codes",
    "get_protocol",
    "ica_baseline",
    "ica_on_codes",
    "mig_from_codes",
    "modularity_from_codes",
    "pixel_ica",
    "sap_from_codes",
    "shapes_ground_truth",
]
