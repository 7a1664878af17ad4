"""Evaluation of label-aware models: class-conditional samples (CVAE) and the classifier of M2."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from aejax import paths
from aejax.evaluation.images import save_grid
from aejax.types import PRNGKey


def class_conditional_samples(model, variables, key: PRNGKey, per_class: int) -> np.ndarray:
    """``[num_classes, per_class, H, W, C]`` means of p(x | z, y) with ``z ~ p(z)`` per class."""
    k = model.num_classes
    labels = jnp.repeat(jnp.arange(k), per_class)

    def sample(m):
        z = m.sample_codes(key, k * per_class)
        return m.decode(z, m.one_hot(labels)).mean()

    x = np.asarray(jax.jit(lambda v: model.apply(v, method=sample))(variables))
    return x.reshape(k, per_class, *x.shape[1:])


def conditional_sample_accuracy(
    samples: np.ndarray, predict: Callable[[np.ndarray], np.ndarray]
) -> dict[str, float | list[float]]:
    """How often an independent classifier assigns each sample to the class it was asked for.

    ``samples [K, n, H, W, C]`` as from :func:`class_conditional_samples`.
    """
    k, n = samples.shape[:2]
    predicted = predict(samples.reshape(k * n, *samples.shape[2:])).reshape(k, n)
    per_class = (predicted == np.arange(k)[:, None]).mean(1)
    return {"accuracy": float(per_class.mean()), "per_class_accuracy": per_class.tolist()}


def save_class_grid(samples: np.ndarray, path: paths.PathLike) -> paths.Path:
    """One row per class, labelled ``y=c``."""
    k, n = samples.shape[:2]
    flat = samples.reshape(k * n, *samples.shape[2:])
    return save_grid(flat, path, ncols=n, row_labels=[f"y={c}" for c in range(k)])


def classifier_predictions(model, variables, images: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """``int[N]`` argmax of the model's own q(y|x) (M2's classifier)."""
    fn = jax.jit(lambda v, x: model.apply(v, x, method=lambda m, x: m.classifier(x)).argmax(-1))
    return np.concatenate(
        [
            np.asarray(fn(variables, jnp.asarray(images[i : i + chunk])))
            for i in range(0, len(images), chunk)
        ]
    )
