"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from the ``ind.<name>.*`` files.

The files (Yang et al. 2016, kimiyoung/planetoid) are Python 2 pickles; they are read with
:mod:`aejax.data.safe_pickle`, which runs no code from the file. Every array is then checked
(types, shapes, index ranges, one-hot labels, csr structure), and any problem raises
:class:`~aejax.errors.DataError` naming the file.

Node order follows the usual GCN loader: node ``i < len(allx)`` has the features of ``allx`` row
``i``; test node ``test.index[k]`` has ``tx`` row ``k``. Graph nodes with no feature row (15 in
CiteSeer) get zero features and label -1. The folder is ``data_dir`` if given, else
``$AEJAX_DATA_DIR/planetoid`` or ``/usr/share/datasets/planetoid``; any folder with the same
file names works.
"""

from __future__ import annotations

import collections
import dataclasses
import os

import numpy as np
import scipy.sparse as sp

from aejax import paths
from aejax.data import safe_pickle
from aejax.data.idx import ENV_VAR, SYSTEM_DATA_DIR
from aejax.errors import DataError

DATASETS: tuple[str, ...] = ("cora", "citeseer", "pubmed")
FOLDER = "planetoid"


@dataclasses.dataclass(frozen=True)
class Graph:
    """An undirected graph with optional node features and labels.

    Attributes:
      name: dataset name (``"cora"``, ...).
      num_nodes: N.
      edges: ``int32 [E, 2]`` undirected edges, each once with ``i < j``, no self-loops, sorted.
      features: ``float32 [N, F]``, or ``None`` for featureless runs (identity features).
      labels: ``int32 [N]`` class ids, -1 where a node has no label.
      num_classes: number of classes.
      source: the folder the files came from.
    """

    name: str
    num_nodes: int
    edges: np.ndarray
    features: np.ndarray | None
    labels: np.ndarray
    num_classes: int
    source: str = ""


def resolve_dir(data_dir: paths.PathLike | None = None) -> paths.Path:
    """The folder holding ``ind.*`` files: ``data_dir`` (or its ``planetoid/``), else the
    search path."""
    if data_dir is not None:
        paths.require_backend(data_dir)
        root = paths.resolve(data_dir)
        if not root.is_dir():
            raise DataError(
                f"data directory '{root}' does not exist; set data.dir to the folder "
                "holding the ind.<name>.* Planetoid files"
            )
        if not list(root.glob("ind.*")) and (root / FOLDER).is_dir():
            return root / FOLDER
        return root
    roots = [paths.resolve(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    roots.append(paths.resolve(SYSTEM_DATA_DIR))
    for root in roots:
        if (root / FOLDER).is_dir():
            return root / FOLDER
    tried = ", ".join(str(r / FOLDER) for r in roots)
    raise DataError(
        f"Planetoid data not found; tried: {tried}. Fix: set data.dir=/path/to/planetoid or "
        f"{ENV_VAR}=/path/containing/planetoid"
    )


def load_planetoid(
    name: str, data_dir: paths.PathLike | None = None, *, features: bool = True
) -> Graph:
    """Loads Planetoid dataset ``name`` (``cora``, ``citeseer``, ``pubmed`` or any name whose
    ``ind.<name>.*`` files are in the folder).

    Args:
      name: dataset name, case-insensitive.
      data_dir: folder with the files; ``None`` searches as the module docstring says.
      features: load ``allx``/``tx`` as node features; ``False`` gives ``features=None``.

    Raises:
      DataError: a file is missing or malformed (the message names it).
    """
    name = name.lower()
    root = resolve_dir(data_dir)

    def path(suffix: str) -> paths.Path:
        p = root / f"ind.{name}.{suffix}"
        if not p.is_file():
            if suffix == "allx" and features:
                raise DataError(
                    f"{p} is missing, so {name} has no features for its training nodes; run "
                    "without node features (identity features) with --config.graph.features=False"
                )
            raise DataError(
                f"{p} is missing; a Planetoid folder holds ind.{name}.{{x,y,tx,ty,"
                "allx,ally,graph,test.index}}"
            )
        return p

    adjacency = _adjacency(path("graph"))
    test_index = _test_index(path("test.index"))
    ally = _one_hot(path("ally"))
    ty = _one_hot(path("ty"), num_classes=ally.shape[1])
    num_nodes = max(max(adjacency) + 1, len(ally), int(test_index.max()) + 1)
    if len(ty) != len(test_index):
        raise DataError(
            f"{path('ty')} has {len(ty)} rows but {path('test.index')} lists "
            f"{len(test_index)} test nodes"
        )
    if test_index.min() < len(ally):
        raise DataError(
            f"{path('test.index')} lists node {test_index.min()}, which is a training "
            f"row of {path('ally')} (rows 0..{len(ally) - 1})"
        )
    labels = np.full(num_nodes, -1, np.int32)
    labels[: len(ally)] = _argmax_or_missing(ally)
    labels[test_index] = _argmax_or_missing(ty)

    x = None
    if features:
        allx, tx = _csr(path("allx")), _csr(path("tx"))
        if allx.shape[0] != len(ally) or tx.shape[0] != len(test_index):
            raise DataError(
                f"{path('allx')} / {path('tx')} have {allx.shape[0]} / {tx.shape[0]}"
                f" rows; expected {len(ally)} / {len(test_index)} (ally / test.index)"
            )
        if allx.shape[1] != tx.shape[1]:
            raise DataError(
                f"{path('allx')} has {allx.shape[1]} feature columns but "
                f"{path('tx')} has {tx.shape[1]}"
            )
        x = np.zeros((num_nodes, allx.shape[1]), np.float32)
        x[: allx.shape[0]] = allx.toarray()
        x[test_index] = tx.toarray()

    return Graph(
        name=name,
        num_nodes=int(num_nodes),
        edges=_undirected_edges(adjacency, num_nodes),
        features=x,
        labels=labels,
        num_classes=int(ally.shape[1]),
        source=str(root),
    )


def _adjacency(p: paths.Path) -> dict[int, list[int]]:
    obj = safe_pickle.load(p)
    if not isinstance(obj, dict) or not obj:
        raise DataError(
            f"{p} should hold a non-empty dict node -> neighbour list, got {type(obj).__name__}"
        )
    out = {}
    for k, v in obj.items():
        if (
            not _is_int(k)
            or k < 0
            or not isinstance(v, list)
            or not all(_is_int(j) and j >= 0 for j in v)
        ):
            raise DataError(f"{p}: entry {k!r} is not a node id >= 0 with a list of node ids")
        out[int(k)] = [int(j) for j in v]
    return out


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _undirected_edges(adjacency: dict[int, list[int]], num_nodes: int) -> np.ndarray:
    pairs = [(min(i, j), max(i, j)) for i, js in adjacency.items() for j in js if i != j]
    edges = np.unique(np.asarray(pairs, np.int64).reshape(-1, 2), axis=0)
    if edges.size and edges.max() >= num_nodes:
        raise DataError(f"graph mentions node {edges.max()} but there are {num_nodes} nodes")
    return edges.astype(np.int32)


def _test_index(p: paths.Path) -> np.ndarray:
    try:
        values = [int(line) for line in p.read_text().split()]
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{p} should hold one integer node id per line ({e})") from None
    index = np.asarray(values, np.int64)
    if not len(index) or index.min() < 0 or len(np.unique(index)) != len(index):
        raise DataError(f"{p} should list distinct node ids >= 0, one per line")
    return index


def _one_hot(p: paths.Path, num_classes: int | None = None) -> np.ndarray:
    a = safe_pickle.load(p)
    if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype.kind not in "biuf":
        raise DataError(
            f"{p} should hold a 2-D numeric label array, got "
            f"{type(a).__name__} {getattr(a, 'shape', '')}"
        )
    if num_classes is not None and a.shape[1] != num_classes:
        raise DataError(f"{p} has {a.shape[1]} label columns, expected {num_classes}")
    rows = a.sum(1)
    if not np.isin(a, (0, 1)).all() or not np.isin(rows, (0, 1)).all():
        raise DataError(f"{p}: every row must be one-hot (or all zero for an unlabelled node)")
    return a


def _argmax_or_missing(one_hot: np.ndarray) -> np.ndarray:
    return np.where(one_hot.sum(1) > 0, one_hot.argmax(1), -1).astype(np.int32)


def _csr(p: paths.Path) -> sp.csr_matrix:
    """Checks the recorded csr state field by field, then builds the matrix."""
    obj = safe_pickle.load(p)
    if not isinstance(obj, safe_pickle.CsrState):
        raise DataError(f"{p} should hold a scipy csr_matrix, got {type(obj).__name__}")
    s = obj.state
    shape = s.get("_shape")
    data, indices, indptr = (s.get(k) for k in ("data", "indices", "indptr"))
    if s.get("format", "csr") != "csr":
        raise DataError(f"{p}: sparse format {s.get('format')!r}, expected 'csr'")
    if not (
        isinstance(shape, tuple) and len(shape) == 2 and all(_is_int(d) and d >= 0 for d in shape)
    ):
        raise DataError(f"{p}: csr shape {shape!r} is not a pair of non-negative integers")
    for field, arr, kinds in (
        ("data", data, "biuf"),
        ("indices", indices, "iu"),
        ("indptr", indptr, "iu"),
    ):
        if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in kinds:
            raise DataError(
                f"{p}: csr {field} should be a 1-D array of kind {kinds!r}, got "
                f"{type(arr).__name__} {getattr(arr, 'dtype', '')} "
                f"{getattr(arr, 'shape', '')}"
            )
    rows, cols = shape
    if len(indptr) != rows + 1:
        raise DataError(
            f"{p}: csr indptr has {len(indptr)} entries, expected rows + 1 = "
            f"{rows + 1} for shape {shape}"
        )
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(indices):
        raise DataError(f"{p}: csr indptr must rise from 0 to len(indices)={len(indices)}")
    if len(data) != len(indices):
        raise DataError(f"{p}: csr data has {len(data)} entries but indices has {len(indices)}")
    if len(indices) and (indices.min() < 0 or indices.max() >= cols):
        raise DataError(
            f"{p}: csr column indices span [{indices.min()}, {indices.max()}], "
            f"outside [0, {cols}) for shape {shape}"
        )
    if not np.isfinite(data).all():
        raise DataError(f"{p}: csr data holds NaN or Inf")
    return sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=shape)


def edge_counts(graph: Graph) -> collections.Counter:
    """Degree of every node in ``graph.edges`` (for diagnostics)."""
    return collections.Counter(graph.edges.ravel().tolist())
