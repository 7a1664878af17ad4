"""Any TFDS catalog dataset, read with ``tfds.data_source`` (array-record) and grain.

No TensorFlow is needed at train time: ``tfds.data_source`` gives random access to the
array-record files of a prepared dataset, decoded to numpy, and grain does the shuffling and
batching. Preparing a dataset (``tfds build NAME --data_dir DIR``) needs internet once, on any
machine. ``tensorflow_datasets`` and ``grain`` are imported lazily, inside the functions, so
``import aejax.data`` stays light.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.errors import DataError

_LOAD_BATCH = 256  # examples per grain batch while materialising a split
_READ_THREADS = 8


def _tfds() -> Any:
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - it is a requirement
        raise DataError(
            f"TFDS datasets need the tensorflow-datasets package ({e}); pip install it"
        ) from e
    return tfds


def _default_data_dir() -> str:
    return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


def _unknown_name(tfds: Any, name: str) -> DataError:
    base = name.split(":")[0].split("/")[0]
    close = difflib.get_close_matches(base, tfds.list_builders(with_community_datasets=False), n=5)
    maybe = f" (did you mean: {', '.join(close)}?)" if close else ""
    return DataError(
        f"'{name}' is not a TFDS catalog dataset{maybe}; list the names with "
        f"`tfds.list_builders(with_community_datasets=False)` or see the TFDS catalog "
        f"(tensorflow.org/datasets/catalog)"
    )


def open_source(name: str, split: str, data_dir: str | None = None) -> Any:
    """Opens a random-access source of one split of a prepared TFDS dataset (never downloads).

    Returns:
      A sequence whose items are dicts of numpy arrays (e.g. ``image`` ``uint8[H, W, C]``).

    Raises:
      DataError: unknown name, dataset not prepared in the data dir, or unknown split.
    """
    tfds = _tfds()
    where = data_dir or _default_data_dir()
    try:
        return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
    except tfds.core.registered.DatasetNotFoundError:
        raise _unknown_name(tfds, name) from None
    except Exception as e:  # tfds raises various types for a missing or foreign-format dataset
        try:
            builder = tfds.builder(name, data_dir=data_dir)
            prepared = builder.is_prepared()
        except Exception:  # noqa: BLE001 - report the original error below
            prepared = False
        if not prepared:
            raise DataError(
                f"TFDS dataset '{name}' is not prepared in {where}; run "
                f"`tfds build {name} --data_dir {where} --file_format=array_record` on a "
                f"machine with internet and copy the folder here (or set data.dir)"
            ) from e
        splits = list(builder.info.splits)
        if split.split("[")[0] not in splits:
            raise DataError(
                f"TFDS dataset '{name}' has no split '{split}'; it has: {', '.join(splits)}"
            ) from e
        raise DataError(
            f"TFDS dataset '{name}' in {where} cannot be read as array-record ({e}); rebuild "
            f"it with `tfds build {name} --data_dir {where} --file_format=array_record`"
        ) from e


def _check_example(example: Any, name: str, image_key: str, label_key: str | None) -> None:
    if not isinstance(example, dict):
        raise DataError(f"tfds:{name}: examples are {type(example).__name__}, expected dicts")
    for key in (image_key, label_key):
        if key is not None and key not in example:
            raise DataError(
                f"tfds:{name}: examples have no key '{key}'; keys: {', '.join(sorted(example))} "
                f"(set data.options image_key/label_key)"
            )


def _to_float(images: np.ndarray) -> np.ndarray:
    """``uint8`` -> ``float32 / 255``, bool/float -> ``float32``; ``[B, H, W]`` gets a channel."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.dtype == np.uint8:
        out = images.astype(np.float32)
        out *= np.float32(1.0 / 255.0)
        return out
    if images.dtype == np.bool_ or np.issubdtype(images.dtype, np.floating):
        return images.astype(np.float32)
    raise DataError(f"unsupported image dtype {images.dtype}; expected uint8, bool or float")


class _Select:
    """Keeps the image (and label) of an example: ``dict -> (image, label)``."""

    def __init__(self, image_key: str, label_key: str | None):
        self.image_key, self.label_key = image_key, label_key

    def __call__(self, example: dict) -> tuple[np.ndarray, np.ndarray]:
        label = -1 if self.label_key is None else example[self.label_key]
        return np.asarray(example[self.image_key]), np.asarray(label, np.int32)


class _ToBatch:
    """``(uint8 images [B, ...], labels [B])`` -> ``dict(image=float32, label=int32)``."""

    def __call__(self, batch: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
        return {"image": _to_float(batch[0]), "label": np.asarray(batch[1], np.int32)}


def _num_classes(source: Any, label_key: str | None) -> int | None:
    try:
        return int(source.dataset_info.features[label_key].num_classes)
    except Exception:  # noqa: BLE001 - not a ClassLabel, or no info: derive from the labels
        return None


def load(
    name: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_key: str = "image",
    label_key: str | None = "label",
    max_examples: int | None = None,
) -> ArrayDataset:
    """Reads a TFDS split into host memory.

    Args:
      name: TFDS catalog name, optionally with config/version (``"mnist"``, ``"cifar10:3.0.2"``).
      split: TFDS split (``"train"``, ``"test"``, ``"train[:10%]"``...).
      data_dir: TFDS data dir; ``None`` means ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``.
      image_key, label_key: example keys of the image and the class label (``None``: no labels).
      max_examples: keep only the first this many examples.

    Returns:
      images ``float32[N, H, W, C]`` in ``[0, 1]`` (uint8 / 255), labels ``int32[N]``.
    """
    import grain

    source = open_source(name, split, data_dir)
    n = len(source) if max_examples is None else min(int(max_examples), len(source))
    if n <= 0:
        raise DataError(f"tfds:{name}/{split}: the split has no examples")
    _check_example(source[0], name, image_key, label_key)
    ds = grain.MapDataset.source(source)[:n].map(_Select(image_key, label_key))
    ds = ds.batch(_LOAD_BATCH).map(_ToBatch())
    read = grain.ReadOptions(num_threads=_READ_THREADS, prefetch_buffer_size=2 * _READ_THREADS)
    images = labels = None
    pos = 0
    try:
        for batch in ds.to_iter_dataset(read):
            if images is None:  # allocate once the image shape is known
                images = np.empty((n, *batch["image"].shape[1:]), np.float32)
                labels = np.empty((n,), np.int32)
            size = batch["image"].shape[0]
            images[pos : pos + size] = batch["image"]
            labels[pos : pos + size] = batch["label"]
            pos += size
    except DataError:
        raise
    except ValueError as e:
        raise DataError(
            f"tfds:{name}/{split}: cannot stack the examples into arrays ({e}); images must all "
            f"have the same shape"
        ) from e
    images = validate_images(images, f"tfds:{name}/{split}")
    num_classes = None
    if label_key is not None:
        num_classes = _num_classes(source, label_key) or int(labels.max()) + 1
    return ArrayDataset(
        images=images,
        labels=None if label_key is None else labels,
        factors=None,
        info=DatasetInfo(
            name=f"tfds:{name}",
            shape=tuple(int(d) for d in images.shape[1:]),
            num_classes=num_classes,
            source=f"tfds:{name} in {data_dir or _default_data_dir()}",
        ),
    )


def grain_batches(
    name: str,
    split: str,
    *,
    batch_size: int,
    seed: int,
    num_epochs: int | None,
    data_dir: str | None = None,
    shuffle: bool = True,
    image_key: str = "image",
    label_key: str | None = "label",
    drop_remainder: bool = True,
) -> Iterator[dict[str, np.ndarray]]:
    """Streams batches of a TFDS split that does not fit in memory.

    Each epoch is shuffled differently (deterministically from ``seed``); ``num_epochs=None``
    repeats forever. Labels are ``-1`` when ``label_key`` is ``None``.

    Yields:
      ``dict(image=float32[B, H, W, C] in [0, 1], label=int32[B])``.
    """
    import grain

    if batch_size <= 0:
        raise DataError(f"batch_size must be positive, got {batch_size}")
    source = open_source(name, split, data_dir)
    if len(source) == 0:
        raise DataError(f"tfds:{name}/{split}: the split has no examples")
    _check_example(source[0], name, image_key, label_key)
    ds = grain.MapDataset.source(source)
    if shuffle:
        ds = ds.shuffle(seed=int(seed) % 2**32)
    ds = ds.repeat(num_epochs).map(_Select(image_key, label_key))
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).map(_ToBatch())
    read = grain.ReadOptions(num_threads=_READ_THREADS, prefetch_buffer_size=2 * _READ_THREADS)
    return iter(ds.to_iter_dataset(read))
