"""Label-aware evaluation: the reference classifier, class-conditional samples, M2's classifier."""

from __future__ import annotations

import os

import jax
import numpy as np
from conftest import tiny_config

from aejax import build
from aejax.evaluation import classifier, conditional
from aejax.train.run import init_state


def _blobs(n=400, seed=0):
    # Two classes of 4x4 "images": bright left half vs bright right half, plus noise.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 4, 4, 1)).astype(np.float32)
    x[y == 0, :, :2] += 0.6
    x[y == 1, :, 2:] += 0.6
    return x, y


def test_reference_classifier_learns_a_separable_problem_and_error_rate_counts(key):
    x, y = _blobs()
    predict = classifier.train_classifier(x, y, 2, key, hidden=(16,), num_steps=200, batch_size=64)
    xt, yt = _blobs(seed=1)
    assert classifier.error_rate(predict(xt), yt) < 0.02
    assert classifier.error_rate(1 - yt, yt) == 1.0
    assert classifier.error_rate(yt, yt) == 0.0


def test_conditional_sample_accuracy_counts_requested_classes():
    samples = np.zeros((3, 4, 2, 2, 1), np.float32)
    samples[1] += 1.0  # class 1's samples are bright; a "classifier" that reads brightness
    predict = lambda x: (x.reshape(len(x), -1).mean(1) > 0.5).astype(int)  # noqa: E731
    result = conditional.conditional_sample_accuracy(samples, predict)
    # class 0: predicted 0 (right); class 1: predicted 1 (right); class 2: predicted 0 (wrong).
    np.testing.assert_allclose(result["per_class_accuracy"], [1.0, 1.0, 0.0])
    assert result["accuracy"] == 2 / 3


def test_class_conditional_samples_follow_the_label(key, tmp_path):
    config = tiny_config(**{"model.num_classes": 3})
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    state = init_state(exp, ds.info.shape, key)
    variables = {"params": state.params}
    samples = conditional.class_conditional_samples(exp.model, variables, key, per_class=5)
    assert samples.shape == (3, 5, 16, 16, 1)
    assert np.all((samples >= 0) & (samples <= 1))
    # Same z for every class (one key), different label: the decoder output must differ.
    assert not np.allclose(samples[0], samples[1])
    path = conditional.save_class_grid(samples, tmp_path / "class_samples.png")
    assert os.path.getsize(path) > 0


def test_m2_classifier_predictions_have_one_label_per_image(key):
    config = tiny_config(
        **{
            "objective.name": "m2",
            "model.num_classes": 3,
            "data.num_labelled": 30,
            "model.classifier.hidden": (8,),
            "data.labelled_batch_size": 10,
        }
    )
    ds = build.load_data(config, "train")
    exp = build.build_experiment(config, ds.info.shape, len(ds))
    state = init_state(exp, ds.info.shape, key)
    pred = conditional.classifier_predictions(exp.model, {"params": state.params}, ds.images[:50])
    assert pred.shape == (50,) and set(np.unique(pred)) <= {0, 1, 2}
    logits = exp.model.apply(
        {"params": state.params}, ds.images[:50], method=lambda m, x: m.classifier(x)
    )
    np.testing.assert_array_equal(pred, np.asarray(jax.numpy.argmax(logits, -1)))
