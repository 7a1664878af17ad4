"""The statistics of a disentanglement study (Locatello et al. 2019), over its table of members.

A study trains every (method, hyperparameter value, seed) and scores each member with the
disentanglement metrics and the unsupervised scores. Its findings are read from three summaries,
computed here from plain arrays (one entry per member):

* :func:`rank_correlations`: Spearman's rank correlation between every pair of scores over the
  members (do the metrics agree?);
* :func:`share_explained`: within one method, the share of a score's variance that the
  hyperparameter explains, ``Var(E[score | value]) / Var(score)`` (the correlation ratio, eta
  squared); the rest is the seed's (does tuning matter more than luck?);
* :func:`best_by_median`: the hyperparameter value with the highest median score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.stats


def rank_correlations(scores: Mapping[str, Sequence[float]]) -> tuple[list[str], np.ndarray]:
    """Spearman correlations between the named score columns, each ``[M]`` over M members.

    Returns ``(names, matrix [K, K])``; members with a NaN in either column of a pair are left out
    of that pair, and a pair with fewer than 3 members left (or a constant column) is NaN.
    """
    names = list(scores)
    columns = [np.asarray(scores[n], np.float64) for n in names]
    matrix = np.full((len(names), len(names)), np.nan)
    for a, x in enumerate(columns):
        for b, y in enumerate(columns):
            keep = np.isfinite(x) & np.isfinite(y)
            if keep.sum() >= 3 and np.ptp(x[keep]) > 0 and np.ptp(y[keep]) > 0:
                matrix[a, b] = scipy.stats.spearmanr(x[keep], y[keep]).statistic
    return names, matrix


def share_explained(values: Sequence, scores: Sequence[float]) -> float:
    """The share of ``scores``' variance explained by ``values`` (the hyperparameter value of each
    member of one method): between-value variance over total variance, in [0, 1].

    1 when members with the same value score the same; 0 when every value has the same mean.
    NaN scores are left out; NaN when fewer than two members remain or the scores are constant.
    """
    scores = np.asarray(scores, np.float64)
    keep = np.isfinite(scores)
    groups, scores = np.asarray(values, object)[keep], scores[keep]
    if len(scores) < 2 or np.ptp(scores) == 0:
        return float("nan")
    mean = scores.mean()
    between = sum(
        (groups == g).sum() * (scores[groups == g].mean() - mean) ** 2 for g in set(groups)
    )
    return float(between / ((scores - mean) ** 2).sum())


def best_by_median(values: Sequence, scores: Sequence[float]):
    """The value whose members' median score is highest (NaN scores left out); ties go to the
    first value in order of appearance."""
    scores = np.asarray(scores, np.float64)
    order = list(dict.fromkeys(values))
    medians = []
    for v in order:
        mine = scores[[u == v for u in values]]
        mine = mine[np.isfinite(mine)]
        medians.append(np.median(mine) if len(mine) else -np.inf)
    return order[int(np.argmax(medians))]
