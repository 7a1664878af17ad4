"""Reader for MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST), gzipped or raw.

An IDX file is a big-endian header followed by uint8 data: images have magic 2051 and header
``(magic, count, rows, cols)`` (16 bytes), labels have magic 2049 and header ``(magic, count)``
(8 bytes). A dataset directory holds ``train-images-idx3-ubyte[.gz]``,
``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]`` and
``t10k-labels-idx1-ubyte[.gz]`` (the ``train-images.idx3-ubyte`` spelling is accepted too).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from collections.abc import Mapping

import numpy as np

from aejax import paths
from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SYSTEM_DATA_DIR = "/usr/share/datasets"
ENV_VAR = "AEJAX_DATA_DIR"

# sha256 of the *uncompressed* IDX files (independent of how they were gzipped), keyed by the
# canonical file name (see :func:`canonical_name`).
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        ),
        "train-labels-idx1-ubyte": (
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        ),
        "t10k-images-idx3-ubyte": (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        ),
        "t10k-labels-idx1-ubyte": (
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        ),
    },
}

_PREFIX = {"train": "train", "test": "t10k"}


def canonical_name(filename: str) -> str:
    """``train-images.idx3-ubyte.gz`` -> ``train-images-idx3-ubyte`` (the checksum table key)."""
    name = os.path.basename(os.fspath(filename))
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    return name.replace(".", "-")


def name_variants(name: str) -> list[str]:
    """Directory names tried for a dataset: as given, with ``-`` and with ``_``."""
    out: list[str] = []
    for v in (name, name.replace("_", "-"), name.replace("-", "_")):
        if v not in out:
            out.append(v)
    return out


def _has_idx_files(path: paths.Path) -> bool:
    return path.is_dir() and any(path.glob("*idx[13]-ubyte*"))


def resolve_dir(name: str, data_dir: paths.PathLike | None = None) -> paths.Path:
    """Finds the directory holding the IDX files of dataset ``name``.

    With ``data_dir``: that directory (or ``data_dir/<name>`` when only that holds IDX files).
    Without: the first existing ``$AEJAX_DATA_DIR/<name>``, then ``/usr/share/datasets/<name>``,
    trying ``name`` with ``_`` and ``-`` spellings.

    Raises:
      DataError: listing every path tried and how to make the data available.
    """
    if data_dir is not None:
        paths.require_backend(data_dir)
        root = paths.resolve(data_dir)
        if not root.is_dir():
            raise DataError(
                f"data directory '{root}' for dataset '{name}' does not exist; set data.dir to "
                f"the folder holding its IDX files (e.g. train-images-idx3-ubyte.gz)"
            )
        for sub in name_variants(name):
            if not _has_idx_files(root) and _has_idx_files(root / sub):
                return root / sub
        return root
    roots = [paths.resolve(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    roots.append(paths.resolve(SYSTEM_DATA_DIR))
    tried = [r / v for r in roots for v in name_variants(name)]
    for path in tried:
        if path.is_dir():
            return path
    hint = (
        "; for Fashion-MNIST: apt-get install dataset-fashion-mnist"
        if "fashion" in name.lower()
        else ""
    )
    env_note = "" if os.environ.get(ENV_VAR) else f" (${ENV_VAR} is not set)"
    raise DataError(
        f"dataset '{name}' not found; tried: {', '.join(str(p) for p in tried)}{env_note}. "
        f"Fix: set data.dir=/path/to/{name}, or {ENV_VAR}=/path/containing/{name}{hint}"
    )


def find_file(directory: paths.Path, split: str, kind: str) -> paths.Path:
    """The IDX file for ``split`` ("train"/"test") and ``kind`` ("images"/"labels")."""
    dims = "3" if kind == "images" else "1"
    stem = f"{_PREFIX[split]}-{kind}"
    candidates = [
        f"{stem}-idx{dims}-ubyte",
        f"{stem}.idx{dims}-ubyte",
        f"{stem}-idx{dims}-ubyte.gz",
        f"{stem}.idx{dims}-ubyte.gz",
    ]
    for c in candidates:
        if (directory / c).is_file():
            return directory / c
    raise DataError(f"{directory}: no {split} {kind} file; expected one of {', '.join(candidates)}")


def read_bytes(path: paths.Path) -> bytes:
    """The uncompressed content of an IDX file (gunzipped when the name ends in ``.gz``)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.name.endswith(".gz") else raw
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot read ({e}); the file is damaged or truncated") from e


def check_sha256(path: paths.Path, data: bytes, expected: str) -> None:
    """Compares the sha256 of the uncompressed ``data`` with ``expected`` (hex)."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise DataError(
            f"{path}: sha256 mismatch of the uncompressed data: expected {expected}, got "
            f"{actual}; the file is damaged or is not the expected version (re-download it)"
        )


def parse(path: paths.Path, data: bytes, magic: int) -> np.ndarray:
    """Parses IDX ``data`` read from ``path``.

    Returns:
      ``uint8[count, rows, cols]`` for images (magic 2051) or ``uint8[count]`` for labels (2049),
      a view of ``data`` without copying.
    """
    ndim = 3 if magic == IMAGES_MAGIC else 1
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise DataError(
            f"{path}: truncated header: expected at least {header} bytes, got {len(data)}"
        )
    fields = struct.unpack(f">{1 + ndim}I", data[:header])
    if fields[0] != magic:
        raise DataError(
            f"{path}: bad magic number {fields[0]}, expected {magic} "
            f"({'images' if magic == IMAGES_MAGIC else 'labels'}); not an IDX file of that kind"
        )
    shape = fields[1:]
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        what = "truncated body" if len(data) < expected else "trailing bytes"
        raise DataError(
            f"{path}: {what}: expected {expected} bytes ({header}-byte header + "
            f"{' x '.join(map(str, shape))}), got {len(data)}"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _read(path: paths.Path, magic: int, checksums: Mapping[str, str]) -> np.ndarray:
    data = read_bytes(path)
    expected = checksums.get(canonical_name(path.name))
    if expected is not None:
        check_sha256(path, data, expected)
    return parse(path, data, magic)


def load(
    directory: str | os.PathLike,
    split: str,
    *,
    name: str,
    expected_sha256: Mapping[str, str] | None = None,
    verify: bool = True,
) -> ArrayDataset:
    """Loads one split of an IDX dataset.

    Args:
      directory: folder with the IDX files.
      split: ``"train"`` or ``"test"`` (reads ``t10k-*``).
      name: dataset name (``"mnist"``, ...); selects known checksums and names the dataset.
      expected_sha256: file name -> sha256 of the uncompressed bytes; overrides known ones.
      verify: check the sha256 from :data:`KNOWN_SHA256` when ``name`` is listed there.

    Returns:
      images ``float32[N, rows, cols, 1]`` in ``[0, 1]`` (uint8 / 255), labels ``int32[N]``.
    """
    if split not in _PREFIX:
        raise DataError(f"{name}: unknown split '{split}'; valid splits: {', '.join(_PREFIX)}")
    directory = paths.resolve(directory)
    checksums: dict[str, str] = {}
    if verify:
        checksums.update(KNOWN_SHA256.get(name.replace("-", "_").lower(), {}))
    for key, value in (expected_sha256 or {}).items():
        checksums[canonical_name(key)] = value
    image_path = find_file(directory, split, "images")
    label_path = find_file(directory, split, "labels")
    pixels = _read(image_path, IMAGES_MAGIC, checksums)
    labels = _read(label_path, LABELS_MAGIC, checksums)
    if pixels.shape[0] != labels.shape[0]:
        raise DataError(
            f"{directory}: {image_path.name} has {pixels.shape[0]} images but {label_path.name} "
            f"has {labels.shape[0]} labels"
        )
    images = pixels.astype(np.float32)[..., None]
    images /= np.float32(255.0)
    images = validate_images(images, str(image_path))
    labels = labels.astype(np.int32)
    num_classes = max(10, int(labels.max()) + 1) if labels.size else 10
    return ArrayDataset(
        images=images,
        labels=labels,
        factors=None,
        info=DatasetInfo(
            name=name,
            shape=tuple(int(d) for d in images.shape[1:]),
            num_classes=num_classes,
            source=str(directory),
        ),
    )
