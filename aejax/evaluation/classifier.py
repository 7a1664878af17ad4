"""A reference classifier trained from scratch: the judge of class-conditional samples and the
"same labels, no generative model" baseline for semi-supervised learning.

It is an MLP (the architecture M2's q(y|x) uses, so the comparison isolates what the generative
model adds), trained with Adam on cross-entropy; batches are drawn from ``fold_in(key, step)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from aejax.nn import MLPEncoder
from aejax.types import PRNGKey


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    key: PRNGKey,
    *,
    hidden: Sequence[int] = (500, 500),
    num_steps: int = 2000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Trains an MLP on ``images [N, H, W, C]`` and ``labels int[N]``; returns ``predict``.

    ``predict(images) -> int[M]`` class ids (batched, jitted). With ``batch_size >= N`` every
    step sees the whole set (the few-label case).
    """
    model = MLPEncoder(hidden=tuple(hidden), out_features=num_classes)
    x_all, y_all = jnp.asarray(images), jnp.asarray(labels, jnp.int32)
    n = x_all.shape[0]
    batch_size = min(batch_size, n)
    init_key, data_key = jax.random.split(key)
    params = model.init(init_key, x_all[:1])["params"]
    tx = optax.adamw(learning_rate, weight_decay=weight_decay)

    def loss_fn(p, x, y):
        logits = model.apply({"params": p}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def step(carry, i):
        p, opt = carry
        idx = jax.random.choice(jax.random.fold_in(data_key, i), n, (batch_size,), replace=False)
        grads = jax.grad(loss_fn)(p, x_all[idx], y_all[idx])
        updates, opt = tx.update(grads, opt, p)
        return (optax.apply_updates(p, updates), opt), None

    (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, jnp.arange(num_steps)))(
        (params, tx.init(params))
    )
    logits_fn = jax.jit(lambda x: model.apply({"params": params}, x).argmax(-1))

    def predict(x: np.ndarray, chunk: int = 2000) -> np.ndarray:
        return np.concatenate(
            [np.asarray(logits_fn(jnp.asarray(x[i : i + chunk]))) for i in range(0, len(x), chunk)]
        )

    return predict


def error_rate(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of wrong predictions."""
    return float(np.mean(np.asarray(predicted) != np.asarray(labels)))
