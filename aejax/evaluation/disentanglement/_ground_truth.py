"""Ground-truth data for the disentanglement metrics: factor sampling, observation, encoding.

A :class:`GroundTruth` is a factor grid (one size per factor) plus ``observe``, which maps factor
indices to observations (rendered sprites for ``shapes``; the factors themselves in the tests). It
plays the role of disentanglement_lib's ``GroundTruthData``: every metric wrapper samples factors
from it (uniformly, or with one factor held fixed) and encodes the observations with a
``representation_fn``.

``representation_fn`` is called on chunks of exactly :data:`ENCODE_BATCH` observations (the last
chunk is padded by repeating its final row and the padding is dropped), so a jitted encoder
compiles once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from aejax.data import shapes
from aejax.errors import DataError

ENCODE_BATCH = 1000  # observations per representation_fn call
RepresentationFn = Callable[[np.ndarray], np.ndarray]  # observations [N, ...] -> codes [N, D]
Seed = int | np.random.SeedSequence


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """A grid of discrete factors and the observation of each factor combination.

    Attributes:
      factor_sizes: number of values of each factor; factors are indices in ``[0, size)``.
      observe: ``int[N, F]`` factor indices -> observations ``[N, ...]`` (deterministic).
      factor_names: one name per factor (defaults to ``f0, f1, ...``).
      categorical: per factor, whether its values are unordered categories (``shapes``' shape)
        rather than ordinal steps (scale, position). Only SAP uses it.
    """

    factor_sizes: tuple[int, ...]
    observe: Callable[[np.ndarray], np.ndarray]
    factor_names: tuple[str, ...] = ()
    categorical: tuple[bool, ...] = ()

    def __post_init__(self):
        sizes = tuple(int(s) for s in self.factor_sizes)
        if not sizes or min(sizes) < 2:
            raise DataError(f"ground truth: every factor needs at least 2 values, got {sizes}")
        object.__setattr__(self, "factor_sizes", sizes)
        if not self.factor_names:
            object.__setattr__(self, "factor_names", tuple(f"f{k}" for k in range(len(sizes))))
        if not self.categorical:
            object.__setattr__(self, "categorical", (False,) * len(sizes))
        if len(self.factor_names) != len(sizes) or len(self.categorical) != len(sizes):
            raise DataError(
                f"ground truth: {len(sizes)} factor sizes but {len(self.factor_names)} names and "
                f"{len(self.categorical)} categorical flags; give one of each per factor"
            )

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``int64[n, F]`` factor indices, each factor uniform and independent."""
        return np.stack([rng.integers(0, s, size=int(n)) for s in self.factor_sizes], axis=1)


def shapes_ground_truth(resolution: int) -> GroundTruth:
    """The ``shapes`` dataset (:mod:`aejax.data.shapes`) rendered at ``resolution``."""
    return GroundTruth(
        factor_sizes=shapes.FACTOR_SIZES,
        observe=lambda f: shapes.render(f.astype(np.int32), int(resolution)),
        factor_names=shapes.FACTOR_NAMES,
        categorical=(True, False, False, False, False),
    )


def encode(
    ground_truth: GroundTruth, representation_fn: RepresentationFn, factors: np.ndarray
) -> np.ndarray:
    """Observes ``factors`` (``int[N, F]``) and encodes them: ``float64[N, D]`` codes.

    Raises:
      DataError: when ``representation_fn`` returns the wrong number of rows, not a 2-D array, or
        NaN/Inf.
    """
    n = factors.shape[0]
    if n < 1:
        raise DataError("representation_fn: nothing to encode; ask for at least one sample")
    chunks = []
    for start in range(0, n, ENCODE_BATCH):
        f = factors[start : start + ENCODE_BATCH]
        m = f.shape[0]
        if m < ENCODE_BATCH:  # one input shape, so a jitted encoder compiles once
            f = np.concatenate([f, np.repeat(f[-1:], ENCODE_BATCH - m, axis=0)])
        codes = np.asarray(representation_fn(ground_truth.observe(f)))
        if codes.ndim != 2 or codes.shape[0] != f.shape[0]:
            raise DataError(
                f"representation_fn must map {f.shape[0]} observations to codes [N, D] = "
                f"[{f.shape[0]}, D], got shape {codes.shape}; return one code vector per input"
            )
        chunks.append(codes[:m].astype(np.float64))
    codes = np.concatenate(chunks)
    if not np.isfinite(codes).all():
        raise DataError(
            "representation_fn returned NaN/Inf codes; check the model (it may have diverged)"
        )
    return codes


def sample_codes(
    ground_truth: GroundTruth, representation_fn: RepresentationFn, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(codes [n, D], factors int64[n, F])`` for ``n`` factor combinations drawn uniformly."""
    factors = ground_truth.sample_factors(rng, n)
    return encode(ground_truth, representation_fn, factors), factors


def check_codes(
    codes: np.ndarray, factors: np.ndarray, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validates ``codes [N, D]`` against ``factors int[N, F]``; returns them as float64 / int64."""
    codes, factors = np.asarray(codes), np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise DataError(
            f"{where}: expected codes [N, D] and factors [N, F] with the same N, got "
            f"{codes.shape} and {factors.shape}"
        )
    if codes.shape[0] < 2:
        raise DataError(f"{where}: need at least 2 examples, got {codes.shape[0]}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise DataError(f"{where}: factors must be integer indices, got dtype {factors.dtype}")
    if not np.isfinite(codes).all():
        raise DataError(f"{where}: codes contain NaN/Inf; check the representation")
    return codes.astype(np.float64), factors.astype(np.int64)


def sklearn_seed(rng: np.random.Generator) -> int:
    """An ``int`` ``random_state`` for scikit-learn, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))
