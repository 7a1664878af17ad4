"""Writes small graphs in the Planetoid ``ind.<name>.*`` format (Python-2-style pickles).

The csr matrices are written the way scipy 0.x pickled them (global ``scipy.sparse.csr
csr_matrix``, ``NEWOBJ``, then a state dict), so the files exercise the same opcodes and globals
as the published ones; arrays and the graph dict use the standard pickler at protocol 2.
"""

from __future__ import annotations

import collections
import io
import pathlib
import pickle
import struct

import numpy as np


class _Py2Pickler(pickle._Pickler):
    """Protocol 2 as Python 2 wrote it: ``bytes`` as ``(SHORT_)BINSTRING``, not
    ``_codecs.encode`` (which Python 3 uses and the restricted unpickler refuses)."""

    def save_bytes(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes


def py2_dumps(obj) -> bytes:
    """``obj`` pickled at protocol 2 the way Python 2 would (see :class:`_Py2Pickler`)."""
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def csr_pickle(state: dict) -> bytes:
    """A protocol-2 pickle of a scipy-0.x ``csr_matrix`` with ``__setstate__`` dict ``state``."""
    body = py2_dumps(state)
    assert body[:2] == b"\x80\x02" and body[-1:] == b"."
    return b"\x80\x02cscipy.sparse.csr\ncsr_matrix\n)\x81" + body[2:-1] + b"b."


def csr_state(dense: np.ndarray) -> dict:
    rows, cols = np.nonzero(dense)
    indptr = np.searchsorted(rows, np.arange(dense.shape[0] + 1)).astype(np.int32)
    return {
        "format": "csr",
        "_shape": tuple(int(d) for d in dense.shape),
        "indptr": indptr,
        "indices": cols.astype(np.int32),
        "data": dense[rows, cols].astype(np.float32),
        "maxprint": 50,
    }


def sbm_graph(num_nodes: int, num_classes: int, p_in: float, p_out: float, seed: int):
    """A stochastic block model: labels ``[N]`` and undirected edges ``[E, 2]`` (``i < j``)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(num_nodes) % num_classes
    same = labels[:, None] == labels[None, :]
    upper = np.triu(rng.random((num_nodes, num_nodes)) < np.where(same, p_in, p_out), 1)
    return labels, np.argwhere(upper)


def write_planetoid(
    directory: pathlib.Path,
    name: str,
    features: np.ndarray,
    labels: np.ndarray,
    edges: np.ndarray,
    num_test: int,
    *,
    skip: tuple[str, ...] = (),
    overrides: dict[str, bytes] | None = None,
) -> pathlib.Path:
    """Writes ``ind.<name>.*``: the last ``num_test`` nodes are test nodes (listed in reverse,
    so the loader must reorder ``tx`` rows). ``skip`` omits files; ``overrides`` replaces one
    file's bytes (keyed by suffix, e.g. ``"allx"``)."""
    directory.mkdir(parents=True, exist_ok=True)
    n, k = len(labels), int(labels.max()) + 1
    one_hot = np.eye(k, dtype=np.int32)[labels]
    train, test = np.arange(n - num_test), np.arange(n - num_test, n)[::-1]
    graph = collections.defaultdict(list)
    for i, j in edges:
        graph[int(i)].append(int(j))
        graph[int(j)].append(int(i))
    for i in range(n):
        graph[i]  # every node is a key, as in the published files  # noqa: B018
    files = {
        "x": csr_pickle(csr_state(features[train[:5]])),
        "y": py2_dumps(one_hot[train[:5]]),
        "allx": csr_pickle(csr_state(features[train])),
        "ally": py2_dumps(one_hot[train]),
        "tx": csr_pickle(csr_state(features[test])),
        "ty": py2_dumps(one_hot[test]),
        "graph": py2_dumps(graph),
        "test.index": "".join(f"{i}\n" for i in test).encode(),
        **(overrides or {}),
    }
    for suffix, data in files.items():
        if suffix not in skip:
            (directory / f"ind.{name}.{suffix}").write_bytes(data)
    return directory
