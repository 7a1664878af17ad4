"""Key derivation and the counter-hash uniforms used for dynamic binarisation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from aejax.train.epochs import binarize_dynamic
from aejax.train.rng import counter_uniform, named_keys, subkey


def test_counter_uniform_is_uniform_and_uncorrelated():
    u = np.asarray(counter_uniform(jax.random.key(0), jnp.arange(400), 784), np.float64)
    assert u.shape == (400, 784) and u.min() >= 0 and u.max() < 1
    # Kolmogorov-Smirnov against U(0, 1) on 313,600 values.
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    # Neighbouring positions and neighbouring counters are uncorrelated (|r| < 4 / sqrt(n)).
    n = u[:, :-1].size
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < 4 / np.sqrt(n)
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 4 / np.sqrt(u[:-1].size)
    # Pairs of neighbouring values fill the unit square evenly (chi-square on a 10x10 grid).
    cells = np.floor(u[:, :-1] * 10).astype(int) * 10 + np.floor(u[:, 1:] * 10).astype(int)
    counts = np.bincount(cells.ravel(), minlength=100)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_counter_uniform_depends_on_key_and_counter_only():
    key = jax.random.key(7)
    a = counter_uniform(key, jnp.array([3, 5, 9]), 16)
    b = counter_uniform(key, jnp.array([9, 3]), 16)
    np.testing.assert_array_equal(a[2], b[0])
    np.testing.assert_array_equal(a[0], b[1])
    other = counter_uniform(jax.random.key(8), jnp.array([3]), 16)
    assert not np.array_equal(a[0], other[0])


def test_binarize_dynamic_matches_intensity_and_ignores_batching():
    x = jnp.full((2000, 2, 2, 1), 0.3).at[:, 0, 0, 0].set(0.9)
    ids = jnp.arange(2000)
    bits = np.asarray(binarize_dynamic(jax.random.key(1), 4, ids, x))
    assert set(np.unique(bits)) <= {0.0, 1.0}
    assert abs(bits[:, 0, 0, 0].mean() - 0.9) < 0.02 and abs(bits[:, 1, 1, 0].mean() - 0.3) < 0.02
    half = np.asarray(binarize_dynamic(jax.random.key(1), 4, ids[1000:], x[1000:]))
    np.testing.assert_array_equal(half, bits[1000:])
    next_epoch = np.asarray(binarize_dynamic(jax.random.key(1), 5, ids, x))
    assert not np.array_equal(next_epoch, bits)


def test_named_keys_and_subkeys_are_distinct_and_reproducible():
    keys = named_keys(0)
    data = [jax.random.key_data(k).tolist() for k in keys.values()]
    assert len({tuple(d) for d in data}) == len(data)
    assert (
        jax.random.key_data(subkey(keys["data"], "a")).tolist()
        == jax.random.key_data(subkey(named_keys(0)["data"], "a")).tolist()
    )
    assert (
        jax.random.key_data(subkey(keys["data"], "a")).tolist()
        != jax.random.key_data(subkey(keys["data"], "b")).tolist()
    )
