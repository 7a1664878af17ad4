"""ICA baselines: independent components of the pixels, or of a model's codes, as representations.

A linear, unsupervised reference for the disentanglement metrics. ``pixel_ica`` fits
``PCA(k)`` on flattened images and then ``FastICA(k)`` on the principal components
(scikit-learn, ``whiten="unit-variance"``, logcosh contrast); the representation of an image is
its ``k`` independent-component activations. ``code_ica`` fits ``FastICA`` on a model's codes
(e.g. VAE posterior means), asking whether an unmixing rotation alone would disentangle them.
Both fit on their own i.i.d. sample of ``num_fit`` rendered combinations (default 10,000).

References:
  Hyvarinen & Oja, "Independent Component Analysis: Algorithms and Applications", Neural
  Networks 13, 2000 (FastICA). Locatello et al., ICML 2019, use PCA and ICA as baselines in
  their appendix.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA, FastICA
from sklearn.pipeline import make_pipeline

from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    encode,
    sklearn_seed,
)

MAX_ITER = 1000  # FastICA iterations (scikit-learn's default of 200 often stops short on pixels)


def _ica(num_components: int, seed: int) -> FastICA:
    return FastICA(
        n_components=num_components, whiten="unit-variance", max_iter=MAX_ITER, random_state=seed
    )


def pixel_ica(
    ground_truth: GroundTruth, *, num_components: int = 10, seed: Seed, num_fit: int = 10_000
) -> RepresentationFn:
    """A representation ``images [N, H, W, C] -> [N, num_components]``: FastICA on PCA of pixels."""
    rng = np.random.default_rng(seed)
    images = ground_truth.observe(ground_truth.sample_factors(rng, num_fit))
    flat = images.reshape(images.shape[0], -1).astype(np.float64)
    model = make_pipeline(
        PCA(n_components=num_components, random_state=sklearn_seed(rng)),
        _ica(num_components, sklearn_seed(rng)),
    ).fit(flat)

    def representation_fn(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        return model.transform(x.reshape(x.shape[0], -1))

    return representation_fn


def code_ica(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    num_components: int | None = None,
    num_fit: int = 10_000,
) -> RepresentationFn:
    """``representation_fn`` followed by FastICA fitted on its codes (``num_components`` defaults
    to the code width)."""
    rng = np.random.default_rng(seed)
    codes = encode(ground_truth, representation_fn, ground_truth.sample_factors(rng, num_fit))
    ica = _ica(num_components or codes.shape[1], sklearn_seed(rng)).fit(codes)

    def unmixed(x: np.ndarray) -> np.ndarray:
        return ica.transform(np.asarray(representation_fn(x), np.float64))

    return unmixed
