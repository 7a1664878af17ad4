"""The one interface every data source returns: host arrays plus metadata.

A source (``shapes``, ``idx``, ``tfds``) produces an :class:`ArrayDataset` per split. Images are
``float32`` in ``[0, 1]`` with layout ``[N, H, W, C]`` (video sources such as ``moving_sprites``:
sequences ``[N, T, H, W, C]``); labels are ``int32`` class ids ``[N]``;
ground-truth factors (when the source knows them) are ``int32`` factor-value indices ``[N, F]``.
The training loop copies these arrays to device memory once (small datasets) and runs epochs in
``jax.lax.scan``; large datasets stream through grain instead (see ``aejax.data.tfds_source``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aejax.errors import DataError

# How images are binarised for training: not at all, once at load time (x > 0.5), or resampled
# per epoch with the intensity as probability (the train loop draws it; see aejax.train.epochs).
BINARIZE_MODES = ("none", "static", "dynamic")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Metadata shared by every split of a dataset.

    Attributes:
      name: the dataset name as given in the config (``"shapes"``, ``"mnist"``, ...).
      shape: per-example image shape ``(H, W, C)``, or ``(T, H, W, C)`` for sequences.
      num_classes: number of label classes, or ``None`` when unlabelled.
      factor_names: names of the ground-truth factors of variation, or ``()``.
      factor_sizes: number of values each factor takes (same order as ``factor_names``), or ``()``.
      source: where the data came from (a directory, ``"generated"``, ``"tfds:NAME"``).
      value_range: range of the pixel values after loading; always ``(0.0, 1.0)``.
    """

    name: str
    shape: tuple[int, ...]
    num_classes: int | None = None
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    source: str = ""
    value_range: tuple[float, float] = (0.0, 1.0)

    @property
    def num_pixels(self) -> int:
        return int(np.prod(self.shape))


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
    """One split held in host memory.

    Attributes:
      images: ``float32[N, H, W, C]`` (sequences: ``[N, T, H, W, C]``) in ``[0, 1]``.
      labels: ``int32[N]`` or ``None``.
      factors: ``int32[N, F]`` factor-value indices or ``None``.
      info: the dataset's :class:`DatasetInfo`.
    """

    images: np.ndarray
    labels: np.ndarray | None
    factors: np.ndarray | None
    info: DatasetInfo

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def take(self, n: int) -> ArrayDataset:
        """The first ``n`` examples (all of them when ``n`` is larger)."""
        sl = slice(0, n)
        return ArrayDataset(
            images=self.images[sl],
            labels=None if self.labels is None else self.labels[sl],
            factors=None if self.factors is None else self.factors[sl],
            info=self.info,
        )

    def batch_fields(self) -> dict[str, np.ndarray]:
        """The per-example arrays a training batch gathers: ``{"image": float32 [N, ...],
        "label": int32 [N]}`` (labels all 0 when the split has none)."""
        labels = self.labels if self.labels is not None else np.zeros(len(self), np.int32)
        return {"image": np.asarray(self.images, np.float32), "label": np.asarray(labels, np.int32)}


def validate_images(images: np.ndarray, where: str) -> np.ndarray:
    """Checks images are ``[N, H, W, C]`` (or sequences ``[N, T, H, W, C]``), finite and in
    ``[0, 1]``; returns them as float32.

    Raises:
      DataError: naming ``where`` (a file or dataset) and the first offending value.
    """
    images = np.asarray(images)
    if images.ndim not in (4, 5):
        raise DataError(
            f"{where}: expected images shaped [N, H, W, C] or sequences [N, T, H, W, C], got "
            f"shape {images.shape}"
        )
    if images.shape[0] == 0:
        raise DataError(f"{where}: the split has no examples")
    images = images.astype(np.float32, copy=False)
    finite = np.isfinite(images)
    if not finite.all():
        idx = np.unravel_index(np.argmin(finite), images.shape)
        raise DataError(
            f"{where}: input contains NaN/Inf (first at example {idx[0]}, value "
            f"{images[idx]}); clean the data or drop those examples"
        )
    lo, hi = float(images.min()), float(images.max())
    if lo < 0.0 or hi > 1.0:
        raise DataError(
            f"{where}: pixel values must lie in [0, 1] after loading, got [{lo:g}, {hi:g}]"
        )
    return images
