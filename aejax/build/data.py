"""Loading a split as the config says: source, truncation, static binarisation, held-out class."""

from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np

from aejax.build.checks import choice, positive
from aejax.data.base import BINARIZE_MODES, ArrayDataset
from aejax.errors import ConfigError


def load_data(
    config: ml_collections.ConfigDict, split: str, *, num_examples: int | None = None
) -> ArrayDataset:
    """Loads ``split`` as the config says: source, truncation and static binarisation.

    ``num_examples`` replaces ``data.num_train`` / ``data.num_test`` (the first N; 0 = all)."""
    from aejax.data import registry as data_registry

    c = config.data
    choice(c.binarize, BINARIZE_MODES, "data.binarize")
    options = c[data_registry.source_kind(c.name)].to_dict()
    if "max_examples" in options and not options["max_examples"]:
        options["max_examples"] = None
    ds = data_registry.load_split(c.name, split, data_dir=c.dir, options=options)
    limit = c.num_train if split == "train" else c.num_test
    if num_examples is not None:
        limit = num_examples
    positive(limit, f"data.num_{split}", allow_zero=True)
    if limit:
        ds = ds.take(int(limit))
    if c.binarize == "static":
        ds = dataclasses.replace(ds, images=(ds.images > 0.5).astype(np.float32))
    if split == "train" and c.exclude_class >= 0:
        ds = _exclude_class(ds, int(c.exclude_class))
    num_classes = config.model.num_classes
    if num_classes:
        if ds.labels is None:
            raise ConfigError(
                f"model.num_classes={num_classes} conditions on labels, but {c.name!r} has none"
            )
        if ds.labels.min() < 0 or ds.labels.max() >= num_classes:
            raise ConfigError(
                f"model.num_classes={num_classes}, but {c.name!r} {split} labels span "
                f"[{ds.labels.min()}, {ds.labels.max()}]; set model.num_classes="
                f"{int(ds.labels.max()) + 1}"
            )
    return ds


def data_signature(config: ml_collections.ConfigDict) -> str:
    """Equal for two configs exactly when :func:`load_data` gives them the same splits."""
    return repr((sorted(config.data.to_dict().items()), config.model.num_classes))


def _exclude_class(ds: ArrayDataset, label: int) -> ArrayDataset:
    """``ds`` without the examples of class ``label`` (the held-out class of anomaly detection)."""
    if ds.labels is None or not np.any(ds.labels == label):
        raise ConfigError(
            f"data.exclude_class={label} but the training split of {ds.info.name!r} has "
            f"{'no labels' if ds.labels is None else 'no example of that class'}; "
            "set data.exclude_class=-1 or a label present in the data"
        )
    keep = ds.labels != label
    return dataclasses.replace(
        ds,
        images=ds.images[keep],
        labels=ds.labels[keep],
        factors=None if ds.factors is None else ds.factors[keep],
    )
