"""The train state: one pytree of arrays (shardable, donatable, vmappable, checkpointable)."""

from __future__ import annotations

import hashlib

import jax
import numpy as np
from flax import struct

from aejax.types import Array, PyTree


class TrainState(struct.PyTreeNode):
    """Everything that changes during training.

    Attributes:
      step: ``int32[]`` number of steps taken (= batches consumed).
      params: the model's ``params`` collection.
      model_state: other variable collections (e.g. ``batch_stats``); ``{}`` when none.
      opt_state: the optax state of ``params``.
    """

    step: Array
    params: PyTree
    model_state: PyTree
    opt_state: PyTree


def params_sha256(params: PyTree) -> str:
    """sha256 over every parameter leaf's raw bytes, in tree-flattening order."""
    digest = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(params):
        digest.update(np.ascontiguousarray(jax.device_get(leaf)).tobytes())
    return digest.hexdigest()


def count_params(params: PyTree) -> int:
    return int(sum(np.prod(np.shape(x)) for x in jax.tree_util.tree_leaves(params)))
