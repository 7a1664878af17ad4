"""Unsupervised scores of a representation: the total correlation of a Gaussian fitted to it.

Locatello et al. (2019, section 5.1, figure 1) track the total correlation of the sampled and of
the mean representation of each model: disentanglement_lib's ``gaussian_total_correlation``, the
total correlation of the Gaussian with the codes' covariance ``S`` (``[D, D]``):

    TC = KL(N(0, S) || prod_j N(0, S_jj)) = 0.5 * (sum_j log S_jj - log det S)   (nats),

zero exactly when the dimensions are uncorrelated. Dimensions of zero variance (collapsed
units: constant codes) carry no dependence and are left out, so their ``log 0`` does not enter.
"""

from __future__ import annotations

import numpy as np

MIN_VARIANCE = 1e-12  # below this a dimension counts as constant and is left out


def gaussian_total_correlation(codes: np.ndarray) -> float:
    """``codes: [N, D]`` -> the total correlation (nats) of a Gaussian with their covariance."""
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or codes.shape[0] < 2:
        raise ValueError(f"codes must be [N >= 2, D], got shape {codes.shape}")
    cov = np.atleast_2d(np.cov(codes, rowvar=False))
    keep = np.diag(cov) > MIN_VARIANCE
    if keep.sum() < 2:
        return 0.0
    cov = cov[np.ix_(keep, keep)]
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:  # linearly dependent dimensions: infinite total correlation
        return float("inf")
    return float(0.5 * (np.log(np.diag(cov)).sum() - logdet))
