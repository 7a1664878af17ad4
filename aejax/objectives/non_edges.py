"""Node pairs drawn uniformly among the pairs that are *not* ones of a sparse target, in jit.

The sampled graph reconstruction loss (:mod:`aejax.objectives.graph`) needs, every step, ``K``
ordered pairs ``(i, j)`` uniform over the ``N^2 - P`` pairs outside the target's ``P`` ones
(``A_train + I``: training edges in both directions and the self-loops). Drawing them costs
O(K log d) here, never O(N^2):

* the target is held as a CSR index (:func:`aejax.data.edge_split.pair_index`: row offsets
  ``[N + 1]`` and each row's sorted columns ``[P]``), built once on the host;
* a candidate ``(i, j)`` is uniform over all ``N^2`` pairs; whether it is a target one is a binary
  search for ``j`` among row ``i``'s columns (a ``lax.while_loop`` of ``log2(max degree)`` rounds);
* candidates that hit a target pair are redrawn from fresh keys a fixed number of times
  (``rounds``); any still rejected after the last round is returned with ``valid = False`` and
  must be left out (a fraction ``density^(rounds+1)`` of the draws, with the target's density
  ``P / N^2``: with the default single redraw, 3e-6 for Cora and 5e-8 for ``sbm:large``).

Every accepted pair is uniform over the non-target pairs (rejection sampling), so
``(N^2 - P) * mean(f over accepted)`` is an unbiased estimate of ``sum(f over non-target pairs)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aejax.types import Array, PRNGKey


def contains(indptr: Array, indices: Array, rows: Array, cols: Array) -> Array:
    """Whether each pair ``(rows[k], cols[k])`` is in the CSR index: ``bool [K]``.

    A vectorised lower-bound search of ``cols[k]`` in row ``rows[k]``'s sorted columns.
    """
    indptr, indices = jnp.asarray(indptr), jnp.asarray(indices)
    lo, hi = indptr[rows], indptr[rows + 1]
    end = hi
    last = indices.shape[0] - 1

    def unfinished(carry):
        lo, hi = carry
        return jnp.any(lo < hi)

    def halve(carry):
        lo, hi = carry
        mid = (lo + hi) // 2
        right = indices[jnp.clip(mid, 0, last)] < cols
        active = lo < hi
        return jnp.where(active & right, mid + 1, lo), jnp.where(active & ~right, mid, hi)

    lo, _ = jax.lax.while_loop(unfinished, halve, (lo, hi))
    return (lo < end) & (indices[jnp.clip(lo, 0, last)] == cols)


def sample_outside(
    key: PRNGKey, indptr: Array, indices: Array, count: int, *, rounds: int = 1
) -> tuple[Array, Array, Array]:
    """``count`` ordered pairs uniform over the pairs *not* in the CSR index.

    Args:
      key: the step's key for the draws (round ``r`` uses ``fold_in(key, r)``).
      indptr, indices: :func:`~aejax.data.edge_split.pair_index` of the target ones
        (``N = len(indptr) - 1``).
      count: K, a Python int (static shape).
      rounds: redraws of rejected candidates after the first draw.

    Returns:
      ``(rows int32 [K], cols int32 [K], valid bool [K])``; a pair with ``valid = False`` is a
      target one that survived every redraw: leave it out.
    """
    n = indptr.shape[0] - 1
    rows = cols = jnp.zeros(count, jnp.int32)
    valid = jnp.zeros(count, bool)  # nothing accepted yet: round 0 draws every pair
    for r in range(rounds + 1):
        fresh = jax.random.randint(jax.random.fold_in(key, r), (2, count), 0, n, jnp.int32)
        rows, cols = jnp.where(valid, rows, fresh[0]), jnp.where(valid, cols, fresh[1])
        valid = ~contains(indptr, indices, rows, cols)
    return rows, cols, valid
