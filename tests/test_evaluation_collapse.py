"""The I(x; z) estimator against a numpy transcription of its formula and its two extremes."""

import math

import jax
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from aejax.evaluation import collapse


def test_matches_numpy_formula():
    rng = np.random.default_rng(0)
    loc, log_var = rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) * 0.3
    key = jax.random.key(0)
    z = loc + np.exp(0.5 * log_var) * np.asarray(jax.random.normal(key, (50, 3)))
    sd = np.exp(0.5 * log_var)
    log_q_zx = norm.logpdf(z[:, None, :], loc[None], sd[None]).sum(-1)  # [i, j]
    log_qz = logsumexp(log_q_zx, axis=1) - math.log(50)
    expected = np.mean(np.diag(log_q_zx)) - np.mean(log_qz)
    # the estimator uses the closed-form entropy instead of log q(z_i|x_i) at the sample
    entropy_term = np.mean(-0.5 * (3 * (math.log(2 * math.pi) + 1) + log_var.sum(-1)))
    expected += entropy_term - np.mean(np.diag(log_q_zx))
    got = collapse.mutual_information(loc, log_var, key, block=16)
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_collapsed_posterior_has_zero_and_separated_has_log_n():
    n = 400
    same = collapse.mutual_information(np.zeros((n, 2)), np.zeros((n, 2)), jax.random.key(1))
    assert abs(same) < 0.05
    # Non-overlapping posteriors: q(z_i) = q(z_i|x_i) / n, so the estimate is log n plus the
    # sampling noise of log q(z_i|x_i) around minus the entropy (sd sqrt(1/2) / sqrt(n)).
    n = 4000
    loc = np.arange(n, dtype=np.float64)[:, None] * 10.0
    separated = collapse.mutual_information(loc, np.full((n, 1), -4.0), jax.random.key(1))
    assert separated == pytest.approx(math.log(n), abs=0.05)
