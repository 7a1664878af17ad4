"""Constructed representations of a small synthetic ground truth, for the metric sanity triads.

The observation of a factor combination is the combination itself (``float32[N, F]``), as in
disentanglement_lib's ``IdentityObservationsData``, so a representation is any map of the factors:
the factors themselves (top of every metric's range), a constant or independent noise (bottom),
duplicated, mixed or partial copies (in between).
"""

from __future__ import annotations

import itertools

import numpy as np

from aejax.evaluation.disentanglement import GroundTruth

SIZES = (4, 5, 6, 8)


def ground_truth(sizes=SIZES, categorical=()) -> GroundTruth:
    return GroundTruth(
        factor_sizes=sizes, observe=lambda f: f.astype(np.float32), categorical=categorical
    )


def full_grid(sizes=SIZES) -> np.ndarray:
    """Every factor combination once, ``int64[prod(sizes), F]``: the factors are exactly
    independent in this sample, so the mutual information between different factors is 0."""
    return np.array(list(itertools.product(*[range(s) for s in sizes])), np.int64)


def iid(n: int, seed: int, sizes=SIZES) -> np.ndarray:
    return ground_truth(sizes).sample_factors(np.random.default_rng(seed), n)


def identity(x):
    return np.asarray(x, np.float64)


def constant(x):
    return np.zeros_like(np.asarray(x, np.float64))


def make_random(seed: int = 0):
    """Codes drawn independently of the input (a fresh draw on every call)."""
    rng = np.random.default_rng(seed)
    return lambda x: rng.normal(size=np.shape(x))


def duplicated(x):
    """Every factor in two codes."""
    x = identity(x)
    return np.concatenate([x, x], axis=1)


def pair_mixed(x):
    """Codes ``f0 + f1, f0 - f1, f2 + f3, f2 - f3``: every code carries two factors."""
    x = identity(x)
    return np.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1], x[:, 2] + x[:, 3], x[:, 2] - x[:, 3]], 1)


def subset(m: int):
    """Only the first ``m`` factors, one code each."""
    return lambda x: identity(x)[:, :m]


def partly_mixed(x):
    """Codes ``f0 + f1, f1, f2, f3``: factors 2 and 3 disentangled, 0 and 1 entangled in code 0."""
    x = identity(x).copy()
    x[:, 0] += x[:, 1]
    return x
