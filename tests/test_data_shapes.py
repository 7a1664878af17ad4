"""The generated sprites: determinism, factor semantics, geometry and splits."""

import numpy as np
import pytest

from aejax.data import shapes
from aejax.errors import DataError

RES = 64


def _grid(shape, scale, orientation, xs, ys):
    """int[N, 5] factors for every (x, y) pair of ``xs`` x ``ys`` at fixed other factors."""
    xx, yy = np.meshgrid(xs, ys, indexing="ij")
    n = xx.size
    return np.stack(
        [np.full(n, shape), np.full(n, scale), np.full(n, orientation), xx.ravel(), yy.ravel()],
        axis=1,
    )


def _centroids(images):
    """(row, col) centres of mass of binary images [N, H, W, 1]."""
    m = images[..., 0]
    rows = np.arange(m.shape[1])[None, :, None] + 0.5
    cols = np.arange(m.shape[2])[None, None, :] + 0.5
    area = m.sum(axis=(1, 2))
    return (m * rows).sum(axis=(1, 2)) / area, (m * cols).sum(axis=(1, 2)) / area


def test_render_is_deterministic_binary_and_shaped():
    f = shapes.sample_factors(3, 200)
    a, b = shapes.render(f, RES), shapes.render(f.copy(), RES)
    assert a.shape == (200, RES, RES, 1) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert (a.sum(axis=(1, 2, 3)) > 0).all()  # every sprite is visible


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_centroid_moves_monotonically_with_position(shape):
    xs = np.arange(32)
    horiz = shapes.render(_grid(shape, 3, 7, xs, [12]), RES)
    rows, cols = _centroids(horiz)
    assert (np.diff(cols) > 0).all()  # pos_x moves the sprite right
    assert np.ptp(rows) < 0.5  # and not vertically (up to pixelation)
    vert = shapes.render(_grid(shape, 3, 7, [12], xs), RES)
    rows, cols = _centroids(vert)
    assert (np.diff(rows) > 0).all()  # pos_y moves the sprite down
    assert np.ptp(cols) < 0.5


def test_extreme_positions_are_symmetric_about_the_frame_centre():
    img = shapes.render(_grid(0, 5, 0, [0, 31], [0, 31]), RES)
    rows, cols = _centroids(img)
    # (0,0) and (31,31) mirror each other through the image centre.
    assert abs(rows[0] + rows[3] - RES) < 0.5 and abs(cols[0] + cols[3] - RES) < 0.5


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_area_grows_with_scale_squared(shape):
    # Average over many sub-pixel offsets in x and y so pixelation does not bias the area.
    areas = []
    for s in range(6):
        img = shapes.render(_grid(shape, s, 0, np.arange(32), np.arange(0, 32, 3)), RES)
        areas.append(img.sum(axis=(1, 2, 3)).mean())
    areas = np.array(areas)
    scales = np.linspace(0.5, 1.0, 6)
    np.testing.assert_allclose(areas / areas[-1], scales**2, rtol=0.05)
    assert (np.diff(areas) > 0).all()


def test_square_and_ellipse_areas_match_the_analytic_areas():
    half = 0.15 * RES  # documented: half-side of the scale-1 square is 15% of the resolution
    sq = shapes.render(_grid(0, 5, 0, np.arange(32), [0, 9, 20]), RES).sum(axis=(1, 2, 3))
    el = shapes.render(_grid(1, 5, 0, np.arange(32), [0, 9, 20]), RES).sum(axis=(1, 2, 3))
    assert abs(sq.mean() / (2 * half) ** 2 - 1) < 0.03
    assert abs(el.mean() / (np.pi * half * 0.5 * half) - 1) < 0.03


def test_quarter_turn_of_square_is_the_same_square():
    for pos in [(0, 0), (13, 21), (31, 31)]:
        a = shapes.render(np.array([[0, 5, 0, *pos]]), RES)
        b = shapes.render(np.array([[0, 5, 10, *pos]]), RES)  # orientation 10 of 40 = 90 degrees
        assert np.abs(a - b).sum() <= 4


def test_orientation_turns_the_ellipse_and_half_turn_is_identity():
    def second_moments(img):
        m = img[0, ..., 0]
        r, c = np.nonzero(m)
        return r.var(), c.var()

    flat = shapes.render(np.array([[1, 5, 0, 16, 16]]), RES)
    upright = shapes.render(np.array([[1, 5, 10, 16, 16]]), RES)
    half_turn = shapes.render(np.array([[1, 5, 20, 16, 16]]), RES)
    vr, vc = second_moments(flat)
    assert vc > 3 * vr  # semi-axes 1 and 0.5: elongated along x at orientation 0
    ur, uc = second_moments(upright)
    assert ur > 3 * uc  # along y after a quarter turn
    assert np.abs(flat - half_turn).sum() <= 4
    # The heart has no rotational symmetry: a quarter turn changes it a lot.
    h0 = shapes.render(np.array([[2, 5, 0, 16, 16]]), RES)
    h10 = shapes.render(np.array([[2, 5, 10, 16, 16]]), RES)
    assert np.abs(h0 - h10).sum() > 0.2 * h0.sum()


@pytest.mark.parametrize("res", [64, 32])
def test_sprite_never_touches_the_border(res):
    corners = [(0, 0), (0, 31), (31, 0), (31, 31)]
    f = np.array([[s, 5, o, x, y] for s in range(3) for o in range(40) for x, y in corners])
    img = shapes.render(f, res)[..., 0]
    border = np.concatenate([img[:, 0, :], img[:, -1, :], img[:, :, 0], img[:, :, -1]], axis=1)
    assert border.max() == 0.0
    assert (img.sum(axis=(1, 2)) > 0).all()


def test_sample_factors_covers_the_grid_uniformly():
    f = shapes.sample_factors(np.random.default_rng(0), 30000)
    assert f.shape == (30000, 5) and f.dtype == np.int32
    for k, size in enumerate(shapes.FACTOR_SIZES):
        counts = np.bincount(f[:, k], minlength=size)
        assert counts.size == size
        expected = 30000 / size
        assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)
    assert shapes.FACTOR_NAMES == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert shapes.FACTOR_SIZES == (3, 6, 40, 32, 32)


def test_load_splits_are_reproducible_and_independent():
    kw = dict(num_train=300, num_test=100, resolution=32)
    train = shapes.load("train", seed=1, **kw)
    again = shapes.load("train", seed=1, **kw)
    test = shapes.load("test", seed=1, **kw)
    other = shapes.load("train", seed=2, **kw)
    assert len(train) == 300 and len(test) == 100
    np.testing.assert_array_equal(train.factors, again.factors)
    np.testing.assert_array_equal(train.images, again.images)
    assert not np.array_equal(train.factors[:100], test.factors)
    assert (train.factors != other.factors).any(axis=1).mean() > 0.9
    np.testing.assert_array_equal(train.labels, train.factors[:, 0])
    np.testing.assert_array_equal(train.images, shapes.render(train.factors, 32))
    assert train.labels.dtype == np.int32 and train.factors.dtype == np.int32
    info = train.info
    assert info.shape == (32, 32, 1) and info.num_classes == 3
    assert info.factor_names == shapes.FACTOR_NAMES and info.factor_sizes == shapes.FACTOR_SIZES


def test_default_train_split_is_20000_sprites_at_64_pixels():
    ds = shapes.load("train")
    assert ds.images.shape == (20000, 64, 64, 1)
    assert ds.factors.shape == (20000, 5)
    np.testing.assert_array_equal(ds.images[:64], shapes.render(ds.factors[:64], 64))


def test_bad_arguments_raise_data_error():
    with pytest.raises(DataError, match="valid splits"):
        shapes.load("validation")
    with pytest.raises(DataError, match="num_train"):
        shapes.load("train", num_train=0)
    with pytest.raises(DataError, match="orientation"):
        shapes.render(np.array([[0, 0, 40, 0, 0]]))
    with pytest.raises(DataError, match=r"\[N, 5\]"):
        shapes.render(np.zeros((3, 4), np.int32))
