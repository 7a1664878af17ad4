"""The small deterministic ground truth behind ``tests/data/dlib_reference.json``.

``tests/data/make_dlib_reference.py`` fed these inputs to disentanglement_lib's own metric
functions; ``tests/test_disentanglement_dlib_protocol.py`` feeds the same inputs to aejax's
``dlib_study_v1`` protocol. The module needs numpy only (the generator imports it without aejax).

Three factors with 3, 6 and 10 values. The observation of a combination is the combination
itself (``float64[N, 3]``), as in disentanglement_lib's ``IdentityObservationsData``, and the
representation is six codes (:func:`represent`): four noisy mixtures, a code of standard
deviation about 0.009 (under the study's FactorVAE pruning threshold of 0.05) and a nuisance
code. The "noise" is an integer hash of the factors, so every value comes from
exact IEEE arithmetic on small integers and is bit-identical on any platform (no
transcendental functions); the JSON records SHA-256 digests of the arrays to catch drift.

Random draws follow disentanglement_lib's order with ``numpy.random.RandomState`` (its
ground-truth datasets draw one ``randint(size, size=num)`` per factor, in factor order), so the
tests can rebuild the exact factor combinations the reference sampled.
"""

from __future__ import annotations

import hashlib

import numpy as np

SIZES = (3, 6, 10)
NUM_CODES = 6


def dlib_sample_factors(random_state: np.random.RandomState, num: int) -> np.ndarray:
    """``int64[num, 3]``: one ``randint(size, size=num)`` per factor, as disentanglement_lib's
    ``SplitDiscreteStateSpace.sample_latent_factors`` draws them."""
    return np.stack([random_state.randint(s, size=num) for s in SIZES], axis=1).astype(np.int64)


def _hash(f: np.ndarray, a: int, b: int, c: int, m: int) -> np.ndarray:
    """``[N]`` pseudo-noise in ``[-0.5, 0.5)`` from the factor values, exact in float64."""
    f0, f1, f2 = f[:, 0], f[:, 1], f[:, 2]
    return np.mod(a * f0 + b * f1 + c * f2 + f0 * f1 * f2, m) / m - 0.5


def represent(observations: np.ndarray) -> np.ndarray:
    """Observations ``[N, 3]`` (the factor values) -> codes ``float64[N, 6]``.

    With ``u`` the factors scaled to [0, 1] and ``h`` hashes in [-0.5, 0.5): four codes that
    each mix a main factor with a little of another plus noise ``2 h`` (strong enough that no
    score is at the top of its range), one code of standard deviation ~0.009 and one nuisance
    code.
    """
    f = np.asarray(observations, np.float64)
    u = f / (np.array(SIZES, np.float64) - 1.0)
    return np.stack(
        [
            u[:, 0] + 0.3 * u[:, 1] + 2.0 * _hash(f, 5, 3, 7, 11),
            u[:, 1] - 0.3 * u[:, 0] + 2.0 * _hash(f, 2, 9, 4, 13),
            0.5 * u[:, 1] + 0.5 * u[:, 2] + 2.0 * _hash(f, 7, 1, 3, 17),
            u[:, 2] + 0.2 * u[:, 0] + 2.0 * _hash(f, 4, 5, 1, 19),
            0.03 * _hash(f, 3, 8, 5, 23),  # std ~0.009: pruned by the study's FactorVAE score
            _hash(f, 6, 2, 9, 29) + 0.1 * u[:, 0],
        ],
        axis=1,
    )


def row_noise(num: int) -> np.ndarray:
    """``[num, 6]`` pseudo-noise in [-0.5, 0.5) from the row index (a quadratic hash modulo a
    prime per code, exact in float64): what the codes of the fixed arrays do not share with the
    factors, so no classifier can read a factor off them perfectly."""
    row = np.arange(num, dtype=np.float64)[:, None]
    a = np.array([37.0, 53.0, 71.0, 89.0, 97.0, 61.0])
    b = np.array([11.0, 29.0, 43.0, 7.0, 19.0, 83.0])
    m = np.array([997.0, 1009.0, 1013.0, 1019.0, 1021.0, 1031.0])
    return np.mod(a * row * row + b * row + 5.0, m) / m - 0.5


def fixed_arrays(seed: int, num_train: int, num_test: int):
    """``(codes_train [n, 6], factors_train int64[n, 3], codes_test, factors_test)``: the first
    ``num_train`` and the next ``num_test`` draws of ``RandomState(seed)``, with codes
    :func:`represent` plus :func:`row_noise`."""
    factors = dlib_sample_factors(np.random.RandomState(seed), num_train + num_test)
    codes = represent(factors) + row_noise(num_train + num_test)
    return codes[:num_train], factors[:num_train], codes[num_train:], factors[num_train:]


def beta_vae_draws(seed: int, num_train: int, num_eval: int, batch_size: int):
    """The pairs disentanglement_lib's ``compute_beta_vae_sklearn`` samples from
    ``RandomState(seed)``: ``(factors_a, factors_b int64[P, B, 3], fixed int64[P])`` with
    ``P = num_train + num_eval``.

    Per point: ``randint(F)`` for the fixed factor, then two batches of ``B`` combinations; the
    second copies the fixed factor from the first. All training points are drawn before the
    evaluation points (its ``LogisticRegression`` fit in between, lbfgs, draws nothing).
    """
    rs = np.random.RandomState(seed)
    a, b, fixed = [], [], []
    for _ in range(num_train + num_eval):
        index = rs.randint(len(SIZES))
        f1 = dlib_sample_factors(rs, batch_size)
        f2 = dlib_sample_factors(rs, batch_size)
        f2[:, index] = f1[:, index]
        a.append(f1), b.append(f2), fixed.append(index)
    return np.stack(a), np.stack(b), np.array(fixed, np.int64)


def factor_vae_draws(
    seed: int, num_variance_estimate: int, num_train: int, num_eval: int, batch_size: int
):
    """What disentanglement_lib's ``compute_factor_vae`` samples from ``RandomState(seed)``:
    ``(global_factors int64[M, 3], batches int64[P, B, 3], fixed int64[P])``.

    First ``M`` combinations for the global variances, then per vote ``randint(F)`` and a batch
    whose members all take the first member's value of the fixed factor.
    """
    rs = np.random.RandomState(seed)
    global_factors = dlib_sample_factors(rs, num_variance_estimate)
    batches, fixed = [], []
    for _ in range(num_train + num_eval):
        index = rs.randint(len(SIZES))
        f = dlib_sample_factors(rs, batch_size)
        f[:, index] = f[0, index]
        batches.append(f), fixed.append(index)
    return global_factors, np.stack(batches), np.array(fixed, np.int64)


def sha256(array: np.ndarray) -> str:
    """Digest of the array's little-endian float64 bytes (integers are converted first)."""
    return hashlib.sha256(np.ascontiguousarray(array, "<f8").tobytes()).hexdigest()
