"""AUROC / AUPRC of anomaly scores against the Mann-Whitney statistic and chance levels, and the
held-out class of ``data.exclude_class``."""

import numpy as np
import pytest
from conftest import tiny_config
from scipy.stats import mannwhitneyu

from aejax import build
from aejax.errors import ConfigError
from aejax.evaluation import anomaly


def test_auroc_equals_mann_whitney_u():
    rng = np.random.default_rng(0)
    target = rng.random(300) < 0.2
    scores = rng.normal(size=300) + target * 1.0
    scores[:20] = np.round(scores[:20])  # a few ties
    u = mannwhitneyu(scores[target], scores[~target]).statistic
    res = anomaly.detection_scores(target, scores)
    assert res["auroc"] == pytest.approx(u / (target.sum() * (~target).sum()))
    assert res["positive_fraction"] == pytest.approx(target.mean())


def test_random_scores_give_chance_and_perfect_scores_give_one():
    rng = np.random.default_rng(1)
    target = rng.random(20000) < 0.1
    chance = anomaly.detection_scores(target, rng.random(20000))
    assert chance["auroc"] == pytest.approx(0.5, abs=0.02)
    assert chance["auprc"] == pytest.approx(target.mean(), abs=0.02)
    perfect = anomaly.anomaly_table(target.astype(int), 1, {"s": target + 0.1 * rng.random(20000)})
    assert perfect["s"] == pytest.approx(
        {"auroc": 1.0, "auprc": 1.0, "positive_fraction": target.mean()}
    )


def test_exclude_class_drops_it_from_train_only():
    c = tiny_config(**{"data.exclude_class": 1})
    train, test = build.load_data(c, "train"), build.load_data(c, "test")
    full = build.load_data(tiny_config(), "train")
    assert 1 not in set(train.labels) and 1 in set(test.labels)
    assert len(train) == int((full.labels != 1).sum())
    np.testing.assert_array_equal(train.images, full.images[full.labels != 1])
    with pytest.raises(ConfigError, match="data.exclude_class=7"):
        build.load_data(tiny_config(**{"data.exclude_class": 7}), "train")
