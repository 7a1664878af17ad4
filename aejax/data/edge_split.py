"""The seeded link-prediction split and the training graph's inputs.

Protocol of Kipf & Welling (2016): of the undirected edges, 10% are test and 5% validation
positives (``floor``); as many node pairs that are not edges of the *full* graph are drawn as
test and validation negatives. The encoder and the reconstruction target see only the remaining
85% (the training graph). All draws come from one JAX key, so a seed fixes the split.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from aejax.nn.graph import normalized_adjacency
from aejax.types import PRNGKey


@dataclasses.dataclass(frozen=True)
class EdgeSplit:
    """Undirected node pairs ``int32 [K, 2]`` with ``i < j``.

    Attributes:
      train: edges the model trains on (the only edges the encoder sees).
      val, test: held-out edges.
      val_neg, test_neg: node pairs that are not edges of the full graph, as many as
        ``val`` / ``test``, disjoint from each other.
    """

    train: np.ndarray
    val: np.ndarray
    val_neg: np.ndarray
    test: np.ndarray
    test_neg: np.ndarray


def split_edges(
    edges: np.ndarray,
    num_nodes: int,
    key: PRNGKey,
    *,
    val_fraction: float = 0.05,
    test_fraction: float = 0.10,
) -> EdgeSplit:
    """Splits undirected ``edges`` ``[E, 2]`` (``i < j``, unique) as the module docstring says."""
    edges = np.asarray(edges, np.int64)
    num_test = int(np.floor(len(edges) * test_fraction))
    num_val = int(np.floor(len(edges) * val_fraction))
    perm_key, neg_key = jax.random.split(key)
    perm = np.asarray(jax.random.permutation(perm_key, len(edges)))
    test, val = edges[perm[:num_test]], edges[perm[num_test : num_test + num_val]]
    train = edges[np.sort(perm[num_test + num_val :])]
    neg = sample_non_edges(edges, num_nodes, num_test + num_val, neg_key)
    as32 = lambda a: a.astype(np.int32).reshape(-1, 2)  # noqa: E731
    return EdgeSplit(
        train=as32(train),
        val=as32(val),
        val_neg=as32(neg[num_test:]),
        test=as32(test),
        test_neg=as32(neg[:num_test]),
    )


def sample_non_edges(edges: np.ndarray, num_nodes: int, count: int, key: PRNGKey) -> np.ndarray:
    """``count`` distinct pairs ``i < j`` drawn uniformly among pairs that are not in ``edges``.

    Rejection sampling in rounds of uniform draws from ``fold_in(key, round)``; the order of
    acceptance is the order of the draws, so a key fixes the result.
    """
    n = np.int64(num_nodes)
    taken = set((edges[:, 0].astype(np.int64) * n + edges[:, 1]).tolist())
    chosen: list[int] = []
    seen: set[int] = set()
    for round_ in range(1000):
        draw = np.asarray(
            jax.random.randint(jax.random.fold_in(key, round_), (2 * count + 64, 2), 0, num_nodes)
        ).astype(np.int64)
        lo, hi = draw.min(1), draw.max(1)
        for code in (lo * n + hi)[lo != hi].tolist():
            if code not in taken and code not in seen:
                seen.add(code)
                chosen.append(code)
        if len(chosen) >= count:
            codes = np.asarray(chosen[:count], np.int64)
            return np.stack([codes // n, codes % n], 1)
    raise ValueError(f"could not draw {count} non-edges among {num_nodes} nodes")


def training_inputs(split: EdgeSplit, num_nodes: int, features: np.ndarray | None) -> dict:
    """The full-batch ``batch`` of the objectives, from the training edges only.

    Keys: ``features`` ``[N, F]`` (absent when featureless); ``graph`` (the normalised training
    adjacency, :class:`~aejax.nn.graph.GraphOperator`); ``label_src``/``label_dst`` ``[P]``: the
    ones of the reconstruction target ``A_train + I`` (both directions plus self-loops);
    ``label_indptr`` ``[N + 1]`` / ``label_indices`` ``[P]``: the same ones as a CSR index
    (:func:`pair_index`), for drawing non-edges; ``pos_weight`` and ``norm``: the reference
    implementation's loss weights, computed from ``A_train`` without self-loops:
    ``pos_weight = (N^2 - S) / S`` and ``norm = N^2 / (2 (N^2 - S))`` with
    ``S = sum(A_train) = 2 E_train``.
    """
    train = split.train.astype(np.int32)
    loops = np.arange(num_nodes, dtype=np.int32)
    total, ones = float(num_nodes) ** 2, 2.0 * len(train)
    label_src = np.concatenate([train[:, 0], train[:, 1], loops])
    label_dst = np.concatenate([train[:, 1], train[:, 0], loops])
    label_indptr, label_indices = pair_index(label_src, label_dst, num_nodes)
    batch = {
        "graph": normalized_adjacency(train, num_nodes),
        "label_src": label_src,
        "label_dst": label_dst,
        "label_indptr": label_indptr,
        "label_indices": label_indices,
        "pos_weight": np.float32((total - ones) / ones),
        "norm": np.float32(total / (2.0 * (total - ones))),
    }
    if features is not None:
        batch["features"] = np.asarray(features, np.float32)
    return batch


def pair_index(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR index of the ordered pairs ``(src[k], dst[k])`` (each pair once).

    Returns ``(indptr int32 [N + 1], indices int32 [P])``: row ``i``'s columns, sorted, are
    ``indices[indptr[i]:indptr[i + 1]]``.
    """
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    order = np.lexsort((dst, src))
    indptr = np.zeros(num_nodes + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=num_nodes), out=indptr[1:])
    return indptr.astype(np.int32), dst[order].astype(np.int32)
