"""Image corruptions in JAX against numpy/scipy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

from aejax.evaluation import robustness


def _images(seed=0):
    return np.random.default_rng(seed).random((3, 9, 9, 2)).astype(np.float32)


def test_clean_values_are_identity_and_rot90_matches_numpy():
    x = _images()
    key = jax.random.key(0)
    np.testing.assert_allclose(robustness.apply("noise", jnp.asarray(x), 0.0, key), x)
    np.testing.assert_allclose(robustness.apply("rotation", jnp.asarray(x), 0.0, key), x, atol=1e-6)
    np.testing.assert_allclose(robustness.apply("scale", jnp.asarray(x), 1.0, key), x, atol=1e-6)
    np.testing.assert_allclose(
        robustness.rotate(jnp.asarray(x), 90.0), np.rot90(x, k=1, axes=(1, 2)), atol=1e-5
    )


@pytest.mark.parametrize(("name", "value"), [("rotation", 30.0), ("scale", 1.7), ("scale", 0.6)])
def test_warps_match_scipy_affine_transform(name, value):
    x = _images(1)
    t = np.deg2rad(value)
    inv = (
        np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        if name == "rotation"
        else np.eye(2) / value
    )
    centre = np.array([4.0, 4.0])
    # "grid-constant": zeros beyond the edge enter the interpolation, as in jax map_coordinates
    ref = np.stack(
        [
            np.stack(
                [
                    ndimage.affine_transform(
                        x[n, :, :, c],
                        inv,
                        offset=centre - inv @ centre,
                        order=1,
                        mode="grid-constant",
                    )
                    for c in range(2)
                ],
                -1,
            )
            for n in range(3)
        ]
    )
    got = robustness.apply(name, jnp.asarray(x), value, jax.random.key(0))
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_noise_has_the_requested_scale():
    x = np.full((4, 32, 32, 1), 0.5, np.float32)
    y = np.asarray(robustness.gaussian_noise(jnp.asarray(x), 0.1, jax.random.key(0)))
    assert np.std(y - x) == pytest.approx(0.1, rel=0.05)
    assert y.min() >= 0 and y.max() <= 1
