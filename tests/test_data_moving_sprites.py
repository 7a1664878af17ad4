"""Moving sprites: determinism from the seed, shapes, bouncing motion and the registry entry."""

import numpy as np
import pytest

from aejax.data import moving_sprites, registry
from aejax.errors import DataError

SMALL = dict(num_train=12, num_test=6, resolution=32, num_frames=8, num_sprites=2)


def test_shapes_dtype_binary_and_frames_view():
    ds = moving_sprites.load("train", **SMALL)
    assert ds.images.shape == (12, 8, 32, 32, 1) and ds.images.dtype == np.float32
    assert ds.info.shape == (8, 32, 32, 1) and ds.labels is None
    assert set(np.unique(ds.images)) <= {0.0, 1.0}
    assert (ds.images.sum(axis=(2, 3, 4)) > 0).all()  # every frame shows something
    flat = moving_sprites.load("train", frames=True, **SMALL)
    assert flat.info.shape == (32, 32, 1)
    np.testing.assert_array_equal(flat.images, ds.images.reshape(96, 32, 32, 1))


def test_deterministic_from_seed_and_independent_of_split_size():
    a = moving_sprites.load("train", **SMALL).images
    np.testing.assert_array_equal(a, moving_sprites.load("train", **SMALL).images)
    more = moving_sprites.load("train", **{**SMALL, "num_train": 20}).images
    np.testing.assert_array_equal(more[:12], a)  # sequence i does not depend on N
    other_seed = moving_sprites.load("train", seed=1, **SMALL).images
    test = moving_sprites.load("test", **{**SMALL, "num_test": 12}).images
    assert np.abs(a - other_seed).sum() > 0 and np.abs(a - test).sum() > 0


def test_trajectory_matches_closed_form_reflection():
    """A point bouncing in [0, L] is the triangle wave of its unfolded path p0 + v t."""
    rng = np.random.default_rng(0)
    limit = np.array([7.0, 19.0])
    for _ in range(20):
        start, velocity = rng.uniform(0, 1, 2) * limit, rng.uniform(-5, 5, 2)
        got = moving_sprites.trajectory(start, velocity, limit, 40)
        unfolded = np.mod(start + velocity * np.arange(40)[:, None], 2 * limit)
        np.testing.assert_allclose(got, np.where(unfolded > limit, 2 * limit - unfolded, unfolded))


def test_a_single_sprite_keeps_its_area_and_moves_at_bounded_speed():
    """One sprite never leaves the frame (its pixel count is constant) and its centre of mass
    moves at most max speed + 1 px (rounding) per frame."""
    res = 32
    x = moving_sprites.load("test", num_test=10, resolution=res, num_frames=12, num_sprites=1)
    m = x.images[..., 0]
    area = m.sum(axis=(2, 3))
    np.testing.assert_array_equal(area, np.repeat(area[:, :1], 12, axis=1))
    grid = np.arange(res) + 0.5
    rows = (m.sum(axis=3) * grid).sum(axis=2) / area
    cols = (m.sum(axis=2) * grid).sum(axis=2) / area
    step = np.hypot(np.diff(rows, axis=1), np.diff(cols, axis=1))
    assert step.max() <= moving_sprites.SPEED_RANGE[1] * res * np.sqrt(2) + np.sqrt(2) + 1e-6
    assert step.mean() > 0.5  # sprites do move


def test_registry_and_errors():
    ds = registry.load_split("moving_sprites", "test", options={**SMALL, "seed": 3})
    assert ds.images.shape == (6, 8, 32, 32, 1)
    assert "moving_sprites" in registry.describe_sources()
    with pytest.raises(DataError, match="unknown option.*'speed'"):
        registry.load_split("moving_sprites", "test", options={"speed": 1})
    with pytest.raises(DataError, match="num_frames must be an integer >= 1"):
        moving_sprites.load("test", num_frames=0)
    with pytest.raises(DataError, match="resolution must be an integer >= 16"):
        moving_sprites.load("test", resolution=8)
