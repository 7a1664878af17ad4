"""Choosing the labelled pool for semi-supervised training."""

from __future__ import annotations

import jax
import numpy as np

from aejax.errors import ConfigError
from aejax.types import PRNGKey


def balanced_subset(
    labels: np.ndarray, per_class: int, num_classes: int, key: PRNGKey
) -> np.ndarray:
    """Indices ``int32[per_class * num_classes]`` with exactly ``per_class`` examples of each
    class, drawn uniformly without replacement from ``key``; sorted by class, then by index.

    Raises:
      ConfigError: when a class has fewer than ``per_class`` examples.
    """
    labels = np.asarray(labels)
    chosen = []
    for c, class_key in enumerate(jax.random.split(key, num_classes)):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ConfigError(
                f"data.num_labelled asks for {per_class} labelled examples of class {c}, but the "
                f"training split has {len(members)}"
            )
        order = np.asarray(jax.random.permutation(class_key, len(members)))
        chosen.append(np.sort(members[order[:per_class]]))
    return np.concatenate(chosen).astype(np.int32)
