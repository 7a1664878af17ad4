"""Graph convolution (Kipf & Welling 2017) on a sparse edge list.

One layer computes ``A_hat @ (X @ W)`` with ``A_hat = D^-1/2 (A + I) D^-1/2`` (symmetric
normalisation with self-loops, ``D`` the degree matrix of ``A + I``). ``A_hat`` is never dense:
it is an edge list ``(senders, receivers, weights)`` and the product is a
``jax.ops.segment_sum`` over edges, so memory grows with the number of edges, not N^2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from aejax.types import Array


class GraphOperator(NamedTuple):
    """The normalised adjacency ``A_hat`` as weighted directed edges (both directions of every
    undirected edge, plus one self-loop per node).

    Attributes:
      senders: ``int32 [M]`` source node of each entry (column of ``A_hat``).
      receivers: ``int32 [M]`` target node of each entry (row of ``A_hat``).
      weights: ``float32 [M]`` ``1 / sqrt(deg(receiver) * deg(sender))``, degrees counting the
        self-loop.
    """

    senders: Array
    receivers: Array
    weights: Array


def normalized_adjacency(edges: np.ndarray, num_nodes: int) -> GraphOperator:
    """``A_hat`` for undirected ``edges`` ``int [E, 2]`` (each edge once, no self-loops).

    Computed on the host with numpy, once per graph (eager JAX here would compile every op).
    """
    edges = np.asarray(edges, np.int32).reshape(-1, 2)
    loops = np.arange(num_nodes, dtype=np.int32)
    senders = np.concatenate([edges[:, 0], edges[:, 1], loops])
    receivers = np.concatenate([edges[:, 1], edges[:, 0], loops])
    degree = np.bincount(receivers, minlength=num_nodes).astype(np.float64)
    inv_sqrt = 1.0 / np.sqrt(degree)  # degree >= 1 thanks to the self-loop
    weights = (inv_sqrt[senders] * inv_sqrt[receivers]).astype(np.float32)
    return GraphOperator(senders, receivers, weights)


def propagate(h: Array, graph: GraphOperator) -> Array:
    """``A_hat @ h`` for node values ``h`` ``[N, F]`` -> ``[N, F]``."""
    messages = graph.weights[:, None] * h[graph.senders]
    return jax.ops.segment_sum(messages, graph.receivers, num_segments=h.shape[0])


class GCNLayer(nn.Module):
    """``activation(A_hat @ X @ W)``, no bias (as in Kipf & Welling's reference model).

    ``X`` is ``[N, F_in]``, dense or a ``jax.experimental.sparse.BCOO`` (bag-of-words features
    are about 1% non-zero, so ``X @ W`` then costs the non-zeros only), or ``None`` for
    featureless graphs, where ``X = I`` and ``X @ W`` is ``W`` itself (``[num_nodes, features]``),
    so an N x N identity is never built.

    Attributes:
      features: output width.
      activation: applied after propagation (identity for the code layers).
      num_nodes: N; needed only when ``X`` is ``None``.
    """

    features: int
    activation: Callable[[Array], Array] = lambda h: h
    num_nodes: int = 0

    @nn.compact
    def __call__(self, x, graph: GraphOperator) -> Array:
        rows = self.num_nodes if x is None else x.shape[-1]
        kernel = self.param(
            "kernel", nn.initializers.glorot_uniform(), (rows, self.features), jnp.float32
        )
        h = kernel if x is None else x @ kernel
        return self.activation(propagate(h, graph))
