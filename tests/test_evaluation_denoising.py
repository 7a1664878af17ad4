"""The copy-or-denoise check: corruption and the reconstruction/corruption error ratio."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax.evaluation.denoising import corrupt, denoising_ratio


class _Point:
    def __init__(self, value):
        self.value = value

    def mode(self):
        return self.value

    def mean(self):
        return self.value


class _FakeModel:
    """``decode(encode(x))`` = ``fn(x)``: lets the test pick the reconstruction exactly."""

    def __init__(self, fn):
        self.fn = fn

    def encode(self, x):
        return _Point(x)

    def decode(self, z):
        return _Point(self.fn(z))

    def apply(self, variables, x, method):
        del variables
        return method(self, x)


def test_corruptions_have_the_stated_strength(key):
    x = jnp.full((200, 8, 8, 1), 0.5)
    masked = corrupt(key, x, "masking", 0.3)
    assert abs(float((masked == 0).mean()) - 0.3) < 0.03
    noisy = corrupt(key, x, "gaussian", 0.1)
    assert abs(float(jnp.std(noisy - x)) - 0.1) < 0.005  # no clipping at 0.5 +- 5 sigma
    with pytest.raises(ValueError, match="gaussian"):
        corrupt(key, x, "salt", 0.1)


def test_identity_copies_the_noise_and_a_constant_is_scored_by_numpy(key):
    images = np.random.default_rng(0).uniform(0, 1, (50, 6, 6, 1)).astype(np.float32)
    copy = denoising_ratio(_FakeModel(lambda z: z), None, images, key, kind="gaussian", level=0.2)
    assert copy["ratio"] == pytest.approx(1.0)
    const = denoising_ratio(
        _FakeModel(lambda z: jnp.full_like(z, 0.5)), None, images, key, kind="gaussian", level=0.2
    )
    noisy = np.asarray(corrupt(jax.random.fold_in(key, 0), jnp.asarray(images), "gaussian", 0.2))
    expected = np.mean((0.5 - images) ** 2) / np.mean((noisy - images) ** 2)
    assert const["ratio"] == pytest.approx(expected, rel=1e-5)
