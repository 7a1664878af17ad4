"""FactorVAE score: is the factor held fixed in a batch revealed by the code that varies least?

Each code dimension is first divided by its standard deviation over ``num_variance_estimate``
i.i.d. observations. One *vote* is made as follows: pick a factor ``k`` uniformly; draw a batch
of ``B`` combinations that all share one (random) value of factor ``k``; encode them; the vote is
``(k, argmin_d Var_batch(z_d) / Var_global(z_d))`` over the active dimensions. A majority-vote
classifier maps each code dimension to the factor that voted for it most on the training votes;
the score is its accuracy on held-out votes.

Active dimensions are those whose global standard deviation is positive and at least
``prune_std``. The ``aejax_v1`` protocol uses ``prune_std = 0``: every code that varies (Kim &
Mnih prune the collapsed ones; a constant code would otherwise enter the argmin as 0/0). The
``dlib_study_v1`` protocol uses the study's ``prune_dims.threshold = 0.05`` on the standard
deviation (disentanglement_lib's function default of 0 keeps even constant codes). With no active
dimension both accuracies are 0. Range: 1 when each factor has its own code; chance, about
``1 / F``, for random codes; ``m / F`` when only ``m`` of the ``F`` factors are captured, one per
code.

Sample sizes: ``B = 64`` as in disentanglement_lib; defaults ``num_train = 1,000`` and
``num_eval = 500`` votes and ``num_variance_estimate = 5,000`` (disentanglement_lib: 10,000,
5,000 and 10,000), i.e. 101,000 encoded images.

References:
  Kim & Mnih, "Disentangling by Factorising", ICML 2018, section 4 and figure 2.
  Locatello et al., ICML 2019, appendix.
"""

from __future__ import annotations

import numpy as np

from aejax.errors import DataError
from aejax.evaluation.disentanglement._ground_truth import (
    GroundTruth,
    RepresentationFn,
    Seed,
    encode,
)

BATCH_SIZE = 64  # observations per vote (disentanglement_lib)


def active_dims(global_variance: np.ndarray, prune_std: float = 0.0) -> np.ndarray:
    """``bool[D]``: codes with positive variance and standard deviation at least ``prune_std``."""
    return (global_variance > 0) & (np.sqrt(global_variance) >= prune_std)


def votes(
    global_variance: np.ndarray,
    batch_codes: np.ndarray,
    fixed_factor: np.ndarray,
    num_factors: int,
    active: np.ndarray,
) -> np.ndarray:
    """``int[F, D]`` counts: ``votes[k, d]`` batches with factor ``k`` fixed chose code ``d``
    among the ``active`` codes (``bool[D]``, at least one)."""
    active = np.flatnonzero(active)
    local = np.var(batch_codes[:, :, active], axis=1, ddof=1)  # [P, A]
    chosen = active[np.argmin(local / global_variance[active], axis=1)]
    counts = np.zeros((num_factors, global_variance.shape[0]), np.int64)
    np.add.at(counts, (fixed_factor, chosen), 1)
    return counts


def factor_vae_from_codes(
    global_codes: np.ndarray,
    batch_codes: np.ndarray,
    fixed_factor: np.ndarray,
    num_factors: int,
    *,
    num_train: int,
    prune_std: float = 0.0,
) -> dict[str, float]:
    """FactorVAE score from encoded batches.

    Args:
      global_codes: ``[M, D]`` codes of i.i.d. observations, for the per-dimension variance.
      batch_codes: ``[P, B, D]`` codes of ``P`` batches, each with one factor fixed.
      fixed_factor: ``int[P]`` index of the fixed factor of each batch.
      num_factors: ``F``.
      num_train: the first ``num_train`` batches train the majority vote, the rest evaluate it.
      prune_std: codes whose standard deviation over ``global_codes`` is below this (or 0) are
        left out.

    Returns:
      ``{"train_accuracy", "eval_accuracy", "num_active_dims"}``; ``num_active_dims`` counts
      the codes kept (disentanglement_lib reports the length of its mask, i.e. every code).
    """
    global_codes = np.asarray(global_codes, np.float64)
    batch_codes = np.asarray(batch_codes, np.float64)
    fixed_factor = np.asarray(fixed_factor)
    if (
        global_codes.ndim != 2
        or batch_codes.ndim != 3
        or batch_codes.shape[2] != global_codes.shape[1]
        or fixed_factor.shape != batch_codes.shape[:1]
    ):
        raise DataError(
            f"factor_vae: expected global codes [M, D], batch codes [P, B, D], fixed [P]; got "
            f"{global_codes.shape}, {batch_codes.shape}, {fixed_factor.shape}"
        )
    if not 0 < num_train < batch_codes.shape[0]:
        raise DataError(
            f"factor_vae: num_train must be in [1, {batch_codes.shape[0] - 1}], got {num_train}"
        )
    variance = np.var(global_codes, axis=0, ddof=1)
    active = active_dims(variance, prune_std)
    num_active = int(active.sum())
    if num_active == 0:
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    train = votes(variance, batch_codes[:num_train], fixed_factor[:num_train], num_factors, active)
    evals = votes(variance, batch_codes[num_train:], fixed_factor[num_train:], num_factors, active)
    classifier = np.argmax(train, axis=0)  # [D]: the factor each code dimension stands for
    dims = np.arange(train.shape[1])
    return {
        "train_accuracy": float(train[classifier, dims].sum() / train.sum()),
        "eval_accuracy": float(evals[classifier, dims].sum() / evals.sum()),
        "num_active_dims": float(num_active),
    }


def sample_fixed_batches(
    ground_truth: GroundTruth, rng: np.random.Generator, num_batches: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(factors int[P, B, F], fixed int[P])``: every member of batch ``p`` shares factor
    ``fixed[p]``'s value."""
    fixed = rng.integers(0, ground_truth.num_factors, size=num_batches)
    factors = ground_truth.sample_factors(rng, num_batches * batch_size)
    factors = factors.reshape(num_batches, batch_size, -1)
    points = np.arange(num_batches)
    factors[points, :, fixed] = factors[points, :1, fixed]
    return factors, fixed


def compute_factor_vae(
    ground_truth: GroundTruth,
    representation_fn: RepresentationFn,
    *,
    seed: Seed,
    batch_size: int = BATCH_SIZE,
    num_train: int = 1_000,
    num_eval: int = 500,
    num_variance_estimate: int = 5_000,
    prune_std: float = 0.0,
) -> dict[str, float]:
    """FactorVAE score of ``representation_fn`` on fresh samples from ``ground_truth``
    (``prune_std``: see :func:`factor_vae_from_codes`)."""
    rng = np.random.default_rng(seed)
    global_factors = ground_truth.sample_factors(rng, num_variance_estimate)
    factors, fixed = sample_fixed_batches(ground_truth, rng, num_train + num_eval, batch_size)
    flat = factors.reshape(-1, ground_truth.num_factors)
    codes = encode(ground_truth, representation_fn, np.concatenate([global_factors, flat]))
    return factor_vae_from_codes(
        codes[:num_variance_estimate],
        codes[num_variance_estimate:].reshape(*factors.shape[:2], -1),
        fixed,
        ground_truth.num_factors,
        num_train=num_train,
        prune_std=prune_std,
    )
