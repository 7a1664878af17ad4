"""compute_all on rendered shapes, and the ICA baselines."""

from __future__ import annotations

import numpy as np
import pytest
from disentanglement_cases import full_grid, ground_truth

from aejax.evaluation.disentanglement import (
    ENCODE_BATCH,
    METRICS,
    code_ica,
    compute_all,
    ica_baseline,
    mig_from_codes,
    pixel_ica,
    shapes_ground_truth,
)

SMALL = dict(resolution=16, num_train=500, num_test=300)


def centroid(images: np.ndarray) -> np.ndarray:
    """Hand-made codes for sprites: centre of mass (x, y) and area."""
    assert images.shape[0] == ENCODE_BATCH  # called on fixed-size batches only
    x = images[..., 0].astype(np.float64)
    mass = x.sum(axis=(1, 2))
    cols = np.arange(x.shape[2])
    cx = (x.sum(axis=1) * cols).sum(axis=1) / mass
    cy = (x.sum(axis=2) * cols).sum(axis=1) / mass
    return np.stack([cx, cy, mass], axis=1)


def test_compute_all_on_shapes_is_deterministic_and_sees_positions():
    a = compute_all(centroid, seed=3, **SMALL)
    assert set(a) == set(METRICS)
    for values in a.values():
        assert all(np.isfinite(v) for v in values.values())
    assert a == compute_all(centroid, seed=3, **SMALL)
    # pos_x and pos_y are each read off one code: 2 of the 5 factors have a large gap (the
    # area mixes scale and shape, orientation is in no code).
    assert a["mig"]["mig"] > 0.25 and a["sap"]["sap"] > 0.3
    assert a["beta_vae"]["eval_accuracy"] > 0.6


def test_code_ica_unmixes_a_rotation_of_independent_factors():
    gt = ground_truth(sizes=(12, 12, 12))
    # An orthogonal map that spreads every factor over every code.
    rotation = (np.array([[1, 1, 1], [1, -1, 0], [1, 1, -2]]) / np.sqrt([[3], [2], [6]])).T

    def mixed(x):
        return (np.asarray(x, np.float64) - 5.5) @ rotation

    f = full_grid((12, 12, 12))
    unmixed = code_ica(gt, mixed, seed=0, num_fit=3000)
    before, after = mig_from_codes(mixed(f), f)["mig"], mig_from_codes(unmixed(f), f)["mig"]
    assert before < 0.2 and after > 0.9


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_pixel_ica_baseline():
    representation = pixel_ica(shapes_ground_truth(16), num_components=6, seed=0, num_fit=1000)
    from aejax.data import shapes

    images = shapes.render(shapes.sample_factors(1, 50), 16)
    codes = representation(images)
    assert codes.shape == (50, 6)
    np.testing.assert_allclose(codes.std(axis=0), 1.0, rtol=0.5)  # unit-variance sources
    scores = ica_baseline(seed=0, num_components=6, num_fit=1000, **SMALL)
    assert set(scores) == set(METRICS)
