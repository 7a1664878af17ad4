"""A restricted unpickler for the Planetoid files: only data, never code.

A pickle can name any importable callable and call it while loading (``GLOBAL``/``STACK_GLOBAL``
then ``REDUCE``, ``INST``, ``OBJ``, ``NEWOBJ``). This unpickler resolves exactly the globals the
Planetoid files use (listed in ``shared/data/README.md``) and refuses every other name *before*
anything is called, so a malicious file raises :class:`~aejax.errors.DataError` with no side
effect. The allowed callables are themselves narrowed:

- ``numpy.dtype`` builds only boolean, integer and floating dtypes (no object arrays, whose
  contents would be unpickled as Python objects);
- ``collections.defaultdict`` accepts only ``list`` as its default factory;
- ``scipy.sparse.csr.csr_matrix`` maps to :class:`CsrState`, which records the ``__setstate__``
  dict and runs no scipy code; :func:`aejax.data.planetoid` checks it and builds the matrix.
"""

from __future__ import annotations

import collections
import io
import pickle
from typing import Any

import numpy as np

from aejax import paths
from aejax.errors import DataError

_NUMERIC_KINDS = "biuf"


class CsrState:
    """Stand-in for ``scipy.sparse.csr_matrix`` while unpickling: keeps the state dict only."""

    def __init__(self, *args: Any) -> None:
        if args:
            raise pickle.UnpicklingError("csr_matrix with constructor arguments")
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"csr_matrix state is {type(state).__name__}, not dict")
        self.state = dict(state)


def _dtype(spec: Any, *args: Any) -> np.dtype:
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"numpy.dtype({spec!r}): only dtype names are allowed")
    dtype = np.dtype(spec, *args[:2])  # (align, copy) as numpy pickles them
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        raise pickle.UnpicklingError(f"numpy.dtype({spec!r}) is not a plain numeric dtype")
    return dtype


def _defaultdict(factory: Any = None, *rest: Any) -> collections.defaultdict:
    if factory is not list or rest:
        raise pickle.UnpicklingError("collections.defaultdict allowed only with factory list")
    return collections.defaultdict(list)


def _reconstruct(cls: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise pickle.UnpicklingError("numpy _reconstruct allowed only for numpy.ndarray")
    return np.ndarray.__new__(np.ndarray, shape, dtype_code)


# (module, name) as written in the file -> what it resolves to.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 2 spelling
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("scipy.sparse.csr", "csr_matrix"): CsrState,
    ("collections", "defaultdict"): _defaultdict,
    ("__builtin__", "list"): list,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def load(path: paths.PathLike) -> Any:
    """Unpickles ``path`` (Python 2 protocol-2 pickles, latin-1 strings) allowing only data.

    Raises:
      DataError: naming the file, when it is missing, malformed, or references anything outside
        :data:`ALLOWED_GLOBALS`.
    """
    path = paths.resolve(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    return loads(data, source=str(path))


def loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """:func:`load` for bytes in memory; ``source`` names them in errors."""
    # fix_imports=False: find_class sees the names exactly as written in the file.
    unpickler = _RestrictedUnpickler(io.BytesIO(data), encoding="latin1", fix_imports=False)
    try:
        return unpickler.load()
    except Exception as e:  # any failure inside the pickle machinery is a bad file
        raise DataError(
            f"{source} is not a safe Planetoid pickle ({type(e).__name__}: {e}); only "
            "numpy arrays, csr matrices and defaultdict(list) graphs are accepted"
        ) from None
