"""Datasets as host arrays: generated sprites, IDX files (MNIST family) and TFDS.

``load_split(name, split)`` is the one entry point; every source returns an
:class:`ArrayDataset` with ``float32[N, H, W, C]`` images in ``[0, 1]``. Importing this package
does not import ``tensorflow_datasets`` or ``grain`` (only the TFDS source does, when used).
"""

from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.data.registry import describe_sources, load_split

__all__ = ["ArrayDataset", "DatasetInfo", "describe_sources", "load_split", "validate_images"]
