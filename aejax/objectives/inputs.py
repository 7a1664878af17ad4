"""What objectives read besides the model: the encoder's input and named key streams."""

from __future__ import annotations

import zlib

import jax

from aejax.types import Array, Batch, PRNGKey

ENCODER_INPUT = "encoder_input"  # batch key of the corrupted image the encoder sees


def encoder_input(batch: Batch) -> Array:
    """What the encoder reads: the corrupted image when a denoising wrapper set one, else the
    image itself. Reconstruction terms always score the clean ``batch["image"]``."""
    return batch.get(ENCODER_INPUT, batch["image"])


def stream(key: PRNGKey, name: str) -> PRNGKey:
    """A named sub-stream of ``key``: ``fold_in(key, crc32(name) mod 2**31)``."""
    return jax.random.fold_in(key, zlib.crc32(name.encode()) % 2**31)
