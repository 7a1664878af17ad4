"""A procedural dSprites-style dataset: binary 2-D sprites with known factors of variation.

Every image is rendered by this module from five factor-value indices, on the dSprites grid
(3 x 6 x 40 x 32 x 32 = 737,280 combinations):

====================  ======  =====================================================
factor                values  meaning
====================  ======  =====================================================
``shape``                  3  0 square, 1 ellipse, 2 heart
``scale``                  6  linearly from 0.5 to 1.0 (sprite size relative to max)
``orientation``           40  ``2*pi*k/40`` radians, counter-clockwise
``pos_x``                 32  sprite centre, left (0) to right (31)
``pos_y``                 32  sprite centre, top (0) to bottom (31)
====================  ======  =====================================================

Rendering is pure and deterministic: each pixel centre is mapped into the sprite's canonical frame
(inverse translation, rotation and scale) and tested for membership of the canonical shape, which
lies inside ``[-1, 1]^2`` (square ``|u|, |v| <= 1``; ellipse with semi-axes 1 and 0.5; heart from
the implicit curve ``(x^2 + y^2 - 1)^3 = x^2 y^3``). Positions span the frame minus a margin larger
than the sprite's circumradius, so a sprite never touches the border.
"""

from __future__ import annotations

import zlib

import numpy as np

from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.errors import DataError

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")

SCALES = np.linspace(0.5, 1.0, FACTOR_SIZES[1])  # relative sprite size
ORIENTATIONS = 2.0 * np.pi * np.arange(FACTOR_SIZES[2]) / FACTOR_SIZES[2]  # radians, in [0, 2*pi)
POSITIONS = np.linspace(0.0, 1.0, FACTOR_SIZES[3])  # fraction of the usable span

MAX_HALF_SIZE = 0.15  # half-side of the scale-1 square, as a fraction of the resolution
_ELLIPSE_MINOR = 0.5  # semi-minor axis of the canonical ellipse (semi-major is 1)
# The heart curve spans x in [-1.139, 1.139], y in [-1.0, 1.236]: scale and centre it into
# [-1, 1]^2 so every shape has circumradius <= sqrt(2) in the canonical frame.
_HEART_SCALE = 1.139
_HEART_SHIFT = 0.118
_CHUNK = 1024  # sprites rendered per vectorised step (bounds temporary memory)
_SPLITS = ("train", "test")


def geometry(resolution: int) -> tuple[float, float]:
    """Sprite size and placement at ``resolution``.

    Returns:
      ``(half_size, margin)`` in pixels: the half-side of the scale-1 square, and the distance from
      the border to the extreme sprite centres (circumradius of the largest sprite plus 1 px).
    """
    half = MAX_HALF_SIZE * resolution
    return half, float(np.sqrt(2.0) * half + 1.0)


def _check_factors(factors: np.ndarray) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_SIZES):
        raise DataError(
            f"shapes: factors must be shaped [N, {len(FACTOR_SIZES)}] "
            f"({', '.join(FACTOR_NAMES)}), got {factors.shape}"
        )
    if not np.issubdtype(factors.dtype, np.integer):
        raise DataError(f"shapes: factors must be integer indices, got dtype {factors.dtype}")
    for k, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES, strict=True)):
        col = factors[:, k]
        if col.size and (col.min() < 0 or col.max() >= size):
            raise DataError(
                f"shapes: factor '{name}' indices must lie in [0, {size - 1}], "
                f"got [{col.min()}, {col.max()}]"
            )
    return factors.astype(np.int64)


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of canonical coordinates ``(u, v)`` (v pointing up) in shape ``shape``."""
    if shape == 0:
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)
    if shape == 1:
        return u * u + (v * (1.0 / _ELLIPSE_MINOR)) ** 2 <= 1.0
    x = u * _HEART_SCALE
    y = v * _HEART_SCALE + _HEART_SHIFT
    q = x * x + y * y - 1.0
    return q * q * q <= x * x * y * y * y


def render(factors: np.ndarray, resolution: int = 64) -> np.ndarray:
    """Renders sprites from factor indices.

    Args:
      factors: ``int[N, 5]`` factor-value indices in the order of :data:`FACTOR_NAMES`.
      resolution: image side in pixels (at least 16).

    Returns:
      ``float32[N, resolution, resolution, 1]`` with values in {0, 1} (1 = sprite).
    """
    factors = _check_factors(factors)
    if int(resolution) < 16:
        raise DataError(f"shapes: resolution must be at least 16 pixels, got {resolution}")
    res = int(resolution)
    out = np.zeros((factors.shape[0], res, res, 1), np.float32)
    half, margin = geometry(res)
    centres = (np.arange(res) + 0.5).astype(np.float32)  # pixel-centre coordinates
    for start in range(0, factors.shape[0], _CHUNK):
        f = factors[start : start + _CHUNK]
        h = (SCALES[f[:, 1]] * half)[:, None]
        theta = ORIENTATIONS[f[:, 2]][:, None]
        cx = margin + POSITIONS[f[:, 3]][:, None] * (res - 2 * margin)
        cy = margin + POSITIONS[f[:, 4]][:, None] * (res - 2 * margin)
        dx = (centres[None, :] - cx) / h  # [n, res] along columns
        dy = (cy - centres[None, :]) / h  # [n, res] along rows, pointing up
        cos, sin = np.cos(theta), np.sin(theta)
        # Inverse rotation by theta, separable in rows and columns: u = cos dx + sin dy, etc.
        ux, uy = (cos * dx).astype(np.float32), (sin * dy).astype(np.float32)
        vx, vy = (-sin * dx).astype(np.float32), (cos * dy).astype(np.float32)
        for s in range(FACTOR_SIZES[0]):
            sel = np.flatnonzero(f[:, 0] == s)
            if sel.size == 0:
                continue
            u = ux[sel, None, :] + uy[sel, :, None]  # [m, rows, cols]
            v = vx[sel, None, :] + vy[sel, :, None]
            out[start + sel, :, :, 0] = _inside(s, u, v)
    return out


def sample_factors(rng_or_seed: np.random.Generator | int, n: int) -> np.ndarray:
    """Draws ``n`` factor combinations uniformly from the grid.

    Returns:
      ``int32[n, 5]`` factor-value indices.
    """
    rng = (
        rng_or_seed
        if isinstance(rng_or_seed, np.random.Generator)
        else np.random.default_rng(rng_or_seed)
    )
    cols = [rng.integers(0, size, size=int(n)) for size in FACTOR_SIZES]
    return np.stack(cols, axis=1).astype(np.int32).reshape(int(n), len(FACTOR_SIZES))


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The random stream of one split: independent across splits, fixed by ``(seed, split)``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(split.encode())]))


def info(resolution: int = 64) -> DatasetInfo:
    """The :class:`DatasetInfo` of the shapes dataset at ``resolution``."""
    return DatasetInfo(
        name="shapes",
        shape=(int(resolution), int(resolution), 1),
        num_classes=FACTOR_SIZES[0],
        factor_names=FACTOR_NAMES,
        factor_sizes=FACTOR_SIZES,
        source="generated",
    )


def load(
    split: str,
    *,
    num_train: int = 20000,
    num_test: int = 2000,
    resolution: int = 64,
    seed: int = 0,
) -> ArrayDataset:
    """Generates one split: ``num_train`` or ``num_test`` sprites with uniformly sampled factors.

    Labels are the shape index (3 classes); ``factors`` holds all five indices, ``int32[N, 5]``.
    """
    if split not in _SPLITS:
        raise DataError(f"shapes: unknown split '{split}'; valid splits: {', '.join(_SPLITS)}")
    n = num_train if split == "train" else num_test
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise DataError(f"shapes: num_{split} must be a positive integer, got {n!r}")
    factors = sample_factors(split_rng(seed, split), int(n))
    images = validate_images(render(factors, resolution), f"shapes/{split}")
    return ArrayDataset(
        images=images,
        labels=factors[:, 0].copy(),
        factors=factors,
        info=info(resolution),
    )
