"""Moving sprites: Moving-MNIST-style sequences of sprites bouncing inside a square frame.

Srivastava, Mansimov & Salakhutdinov, "Unsupervised Learning of Video Representations using
LSTMs", ICML 2015, section 3.1: two digits move inside a 64 x 64 frame, each with a random
direction and speed, bounce off the edges, and overlap (the frame is their pixelwise maximum).
Here the digits are the binary sprites of :mod:`aejax.data.shapes` (square, ellipse, heart at a
random scale and orientation), rendered at the frame's resolution and cropped to their bounding
box, so nothing is downloaded and the frames are binary (a Bernoulli likelihood fits exactly).

Each sequence has its own random stream ``(seed, split, index)``: sequence ``i`` is the same
whatever ``num_train``/``num_test`` is, and the two splits are independent. Motion is continuous
(top-left corner in pixels, velocity in pixels per frame); a sprite that would leave the frame is
reflected back and its velocity component flips. The drawn position is the rounded corner.

Images are ``float32[N, T, H, W, 1]`` sequences, or with ``frames=True`` the same frames one by
one, ``[N * T, H, W, 1]`` (for frame-wise baselines trained by the image pipeline).
"""

from __future__ import annotations

import zlib

import numpy as np

from aejax.data import shapes
from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.errors import DataError

NAME = "moving_sprites"
SPEED_RANGE = (0.05, 0.1)  # pixels per frame, as a fraction of the resolution (uniform)
_SPLITS = ("train", "test")
_CENTRE = shapes.FACTOR_SIZES[3] // 2  # position index near the middle of the render canvas


def _positive_int(value, key: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(f"{NAME}: {key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def sequence_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random stream of sequence ``index`` of ``split``."""
    tag = zlib.crc32(f"{NAME}/{split}".encode())
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag, int(index)]))


def sprite_patches(factors: np.ndarray, resolution: int) -> list[np.ndarray]:
    """Binary sprites ``[h_i, w_i]`` cropped to their bounding box, one per factor row.

    ``factors: int[M, 3]`` (shape, scale, orientation indices of :mod:`aejax.data.shapes`); the
    sprites are drawn at the size they have in a ``resolution``-pixel shapes image.
    """
    m = factors.shape[0]
    full = np.column_stack([factors, np.full((m, 2), _CENTRE)]).astype(np.int32)
    images = shapes.render(full, resolution)[..., 0]
    patches = []
    for img in images:
        rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
        patches.append(img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return patches


def trajectory(
    start: np.ndarray, velocity: np.ndarray, limit: np.ndarray, num_frames: int
) -> np.ndarray:
    """Corner positions ``[num_frames, 2]`` of a point moving at ``velocity`` inside ``[0, limit]``
    per axis, reflected at both walls. ``start``, ``velocity``, ``limit``: ``[2]`` (pixels)."""
    pos, vel = start.astype(np.float64), velocity.astype(np.float64)
    out = np.empty((num_frames, 2))
    for t in range(num_frames):
        out[t] = pos
        pos = pos + vel
        low, high = pos < 0, pos > limit
        pos = np.where(low, -pos, np.where(high, 2 * limit - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return out


def generate(
    num: int, *, split: str, resolution: int, num_frames: int, num_sprites: int, seed: int
) -> np.ndarray:
    """``float32[num, num_frames, resolution, resolution, 1]`` binary sequences."""
    draws = []
    for i in range(num):
        rng = sequence_rng(seed, split, i)
        factors = np.column_stack(
            [rng.integers(0, size, num_sprites) for size in shapes.FACTOR_SIZES[:3]]
        )
        unit = rng.uniform(0.0, 1.0, (num_sprites, 2))  # start, as a fraction of the free span
        angle = rng.uniform(0.0, 2 * np.pi, num_sprites)
        speed = rng.uniform(*SPEED_RANGE, num_sprites) * resolution
        draws.append((factors, unit, angle, speed))
    patches = sprite_patches(np.concatenate([d[0] for d in draws]), resolution)
    out = np.zeros((num, num_frames, resolution, resolution), np.float32)
    for i, (_, unit, angle, speed) in enumerate(draws):
        for s in range(num_sprites):
            patch = patches[i * num_sprites + s]
            size = np.array(patch.shape)
            limit = (resolution - size).astype(np.float64)  # corner range, rows then columns
            velocity = speed[s] * np.array([np.sin(angle[s]), np.cos(angle[s])])
            corners = np.rint(trajectory(unit[s] * limit, velocity, limit, num_frames))
            for t, (r, c) in enumerate(corners.astype(int)):
                window = out[i, t, r : r + size[0], c : c + size[1]]
                np.maximum(window, patch, out=window)
    return out[..., None]


def info(resolution: int, num_frames: int, frames: bool = False) -> DatasetInfo:
    """Per-example shape ``(T, H, W, 1)``, or ``(H, W, 1)`` with ``frames=True``."""
    shape = (resolution, resolution, 1) if frames else (num_frames, resolution, resolution, 1)
    return DatasetInfo(name=NAME, shape=shape, source="generated")


def load(
    split: str,
    *,
    num_train: int = 2000,
    num_test: int = 200,
    resolution: int = 64,
    num_frames: int = 20,
    num_sprites: int = 2,
    frames: bool = False,
    seed: int = 0,
) -> ArrayDataset:
    """Generates one split: ``num_train`` or ``num_test`` sequences (no labels or factors).

    Args:
      resolution: frame side in pixels (>= 16; 64 as Moving MNIST, 32 for CPU runs).
      num_frames: frames per sequence (20 in Srivastava et al.: 10 observed, 10 predicted).
      num_sprites: sprites per sequence.
      frames: return the frames one by one, ``[N * T, H, W, 1]``, instead of sequences.
    """
    if split not in _SPLITS:
        raise DataError(f"{NAME}: unknown split '{split}'; valid splits: {', '.join(_SPLITS)}")
    n = _positive_int(num_train if split == "train" else num_test, f"num_{split}")
    resolution = _positive_int(resolution, "resolution", 16)
    num_frames = _positive_int(num_frames, "num_frames")
    num_sprites = _positive_int(num_sprites, "num_sprites")
    seed = _positive_int(seed, "seed", 0)
    images = generate(
        n,
        split=split,
        resolution=resolution,
        num_frames=num_frames,
        num_sprites=num_sprites,
        seed=seed,
    )
    if frames:
        images = images.reshape(n * num_frames, resolution, resolution, 1)
    images = validate_images(images, f"{NAME}/{split}")
    return ArrayDataset(
        images=images, labels=None, factors=None, info=info(resolution, num_frames, bool(frames))
    )
