"""Transfer with few labels: linear probes on the latent and fine-tuning the pretrained encoder.

Probes are scikit-learn logistic regressions (on standardised features) fitted on ``n`` labelled
training examples per class and scored on the test split, beside the same probe on raw pixels.
Fine-tuning puts a linear softmax head on the posterior mean ``E_q[z|x]`` and trains encoder and
head together with Adam on the same few labels, once from the pretrained weights and once from a
fresh initialisation of the same network ("scratch").
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aejax.evaluation.likelihood import model_fns


def few_label_indices(labels: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``per_class`` random examples of each class (all when ``None``)."""
    labels = np.asarray(labels)
    if per_class is None:
        return np.arange(labels.size)
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        picks.append(rng.choice(members, size=min(per_class, members.size), replace=False))
    return np.sort(np.concatenate(picks))


def probe_accuracy(train_x, train_y, test_x, test_y, *, max_iter: int = 500) -> float:
    """Test accuracy of a logistic regression on standardised ``[N, F]`` features."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(np.asarray(train_x, np.float64).reshape(len(train_x), -1), train_y)
    return float(probe.score(np.asarray(test_x, np.float64).reshape(len(test_x), -1), test_y))


def fit_probe(train_x, train_y, *, max_iter: int = 500):
    """The fitted probe of :func:`probe_accuracy` (``predict``/``score`` on ``[N, F]``)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    return probe.fit(np.asarray(train_x, np.float64).reshape(len(train_x), -1), train_y)


def probe_table(
    train_latent,
    train_pixels,
    train_y,
    test_latent,
    test_pixels,
    test_y,
    *,
    per_class,
    seed,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """``{"latent": {"10": acc, ...}, "pixels": {...}}`` for each entry of ``per_class``
    (``None`` is reported as ``"all"``); ``on_done(label)`` after each of the probes."""
    out: dict[str, dict[str, float]] = {"latent": {}, "pixels": {}}
    for n in per_class:
        idx = few_label_indices(train_y, n, seed)
        name = "all" if n is None else str(n)
        out["latent"][name] = probe_accuracy(train_latent[idx], train_y[idx], test_latent, test_y)
        _done(on_done, f"probe on latent, {name} per class")
        out["pixels"][name] = probe_accuracy(train_pixels[idx], train_y[idx], test_pixels, test_y)
        _done(on_done, f"probe on pixels, {name} per class")
    return out


def _done(on_done: Callable[[str], None] | None, label: str) -> None:
    if on_done is not None:
        on_done(label)


@dataclasses.dataclass(frozen=True)
class FinetuneSettings:
    """Adam on encoder + head: ``steps`` updates of ``batch_size`` examples drawn with
    replacement (key ``fold_in(key, step)``), learning rate ``learning_rate``."""

    steps: int = 300
    batch_size: int = 64
    learning_rate: float = 1e-3


def _logits(model, variables, head, x):
    encode, _, _ = model_fns(model, variables)
    return encode(x).mean() @ head["w"] + head["b"]


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def _finetune(model, params, x, y, settings: FinetuneSettings, num_classes: int, key, n_valid):
    """Batches are drawn from the first ``n_valid`` rows of ``x``/``y`` (the rest is padding, so
    label budgets of different sizes share one compiled program)."""
    tx = optax.adam(settings.learning_rate)

    def loss_fn(params, xb, yb):
        logits = _logits(model, params["model"], params["head"], xb)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    def step(carry, t):
        params, opt_state = carry
        idx = jax.random.randint(jax.random.fold_in(key, t), (settings.batch_size,), 0, n_valid)
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx])
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(settings.steps))
    return params, losses


@functools.partial(jax.jit, static_argnums=0)
def _predict(model, params, x):
    return jnp.argmax(_logits(model, params["model"], params["head"], x), axis=-1)


def finetune_accuracy(
    model,
    variables,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    num_classes: int,
    key: jax.Array,
    settings: FinetuneSettings = FinetuneSettings(),
    batch_size: int = 1000,
    pad_to: int | None = None,
) -> dict[str, float]:
    """Test accuracy after fine-tuning ``variables`` (the pretrained model) with a fresh linear
    head; ``final_loss`` is the mean cross-entropy of the last 10 steps (nats).

    ``pad_to`` (at least ``len(train_x)``) pads the labelled examples with zeros that are never
    drawn: calls with the same ``pad_to`` reuse one compiled program, with the same result.
    """
    encode, _, _ = model_fns(model, variables)
    dim = encode(jnp.asarray(train_x[:1])).mean().shape[-1]
    head_key, train_key = jax.random.split(key)
    head = {
        "w": jax.random.normal(head_key, (dim, num_classes)) * 0.01,
        "b": jnp.zeros((num_classes,)),
    }
    params = {"model": variables, "head": head}
    n = len(train_x)
    rows = max(n, pad_to or n)
    x = np.zeros((rows, *train_x.shape[1:]), np.float32)
    y = np.zeros((rows,), np.int32)
    x[:n], y[:n] = train_x, train_y
    params, losses = _finetune(
        model,
        params,
        jnp.asarray(x),
        jnp.asarray(y),
        settings,
        num_classes,
        train_key,
        jnp.int32(n),
    )
    preds = np.concatenate(
        [
            np.asarray(_predict(model, params, jnp.asarray(test_x[i : i + batch_size])))
            for i in range(0, len(test_x), batch_size)
        ]
    )
    return {
        "accuracy": float(np.mean(preds == np.asarray(test_y))),
        "final_loss": float(np.mean(np.asarray(losses)[-10:])),
    }


def finetune_table(
    model,
    variables,
    init_variables,
    train_x,
    train_y,
    test_x,
    test_y,
    *,
    per_class,
    num_classes: int,
    seed: int,
    key: jax.Array,
    settings: FinetuneSettings = FinetuneSettings(),
    on_done: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """``{"pretrained": {"10": acc, ...}, "scratch": {...}}``: the same network and head trained
    on the same few labels from ``variables`` and from ``init_variables`` (a fresh init);
    ``on_done(label)`` after each fine-tuning run."""
    out: dict[str, dict[str, float]] = {"pretrained": {}, "scratch": {}}
    # Place the fresh init like the pretrained variables (restored ones are committed to a
    # device): arrays committed differently would compile every program a second time.
    init_variables = jax.tree_util.tree_map(
        lambda a, ref: jax.device_put(a, ref.sharding) if hasattr(ref, "sharding") else a,
        init_variables,
        variables,
    )
    pools = {n: few_label_indices(train_y, n, seed) for n in per_class}
    pad_to = max(len(idx) for idx in pools.values())
    for n in per_class:
        idx = pools[n]
        name = "all" if n is None else str(n)
        for which, v in (("pretrained", variables), ("scratch", init_variables)):
            res = finetune_accuracy(
                model,
                v,
                train_x[idx],
                train_y[idx],
                test_x,
                test_y,
                num_classes=num_classes,
                key=jax.random.fold_in(key, 0 if n is None else n),
                settings=settings,
                pad_to=pad_to,
            )
            out[which][name] = res["accuracy"]
            _done(on_done, f"fine-tune {which}, {name} per class")
    return out
