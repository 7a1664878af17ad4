"""M2's classification weight equals Kingma et al.'s reference weighting under the sampling the
trainer actually does (issue 15, defect 3).

The reference (Kingma et al. 2014, their code) weighs one labelled example's ``-log q(y|x)`` by
``alpha_ref * N / N_l`` with ``alpha_ref = 0.1``, against weight 1 for one unlabelled bound, and
divides the sum over the data set by ``N``. aejax minimises the batch mean of ``U(x_i) + ... +
alpha * mean_l CE_l`` per step, with ``B`` unlabelled images drawn once per epoch and ``L``
labelled ones drawn from the pool every step. Counting how often the trainer's own stream draws
each labelled example over whole epochs gives the weight each receives per epoch, ``alpha / L``
per draw, against ``1 / B`` for an unlabelled image: that ratio must be ``0.1 N / N_l``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from aejax import build
from aejax.objectives.semi_supervised import REFERENCE_ALPHA
from aejax.train.epochs import DeviceData, stream_batch
from aejax.train.rng import named_keys, subkey
from aejax.train.run import stream_pools

REFERENCE_RATIO_ALPHA = 0.1  # Kingma et al.'s alpha, from their code (not from aejax)


def _m2(**extra):
    config = tiny_config(
        **{
            "objective.name": "m2",
            "model.num_classes": 3,
            "data.num_labelled": 30,
            "data.labelled_batch_size": 12,
            **extra,
        }
    )
    ds = build.load_data(config, "train")
    return config, ds, build.build_experiment(config, ds.info.shape, len(ds))


def _draw_counts(ds, pool: np.ndarray, size: int, num_steps: int) -> np.ndarray:
    """How often the trainer's labelled stream draws each pool entry in ``num_steps`` steps."""
    n = len(ds)
    data = DeviceData(
        fields={"image": jnp.zeros((n, 1, 1, 1), jnp.float32)},
        pools={"labelled": jnp.asarray(pool, jnp.int32)},
    )
    keys = named_keys(0)
    stream_key = subkey(keys["data"], "labelled_batch")

    @jax.jit
    def ids(step):
        batch = stream_batch(
            data, "labelled", step, size, step // 16, stream_key, "none", keys["binarize"]
        )
        return batch["labelled_index"]

    drawn = np.concatenate([np.asarray(ids(jnp.int32(t))) for t in range(num_steps)])
    return np.array([(drawn == i).sum() for i in pool])


def test_default_alpha_gives_each_labelled_example_the_reference_weight():
    config, ds, exp = _m2()
    n, n_l = len(ds), 30
    b, size = config.train.batch_size, config.data.labelled_batch_size
    assert n % b == 0  # every unlabelled image is drawn exactly once per epoch
    steps_per_epoch, epochs = n // b, 40
    pool = stream_pools(exp, ds)["labelled"]
    counts = _draw_counts(ds, pool, size, steps_per_epoch * epochs) / epochs  # draws per epoch
    alpha = float(exp.hparams["classification_weight"])
    # Per epoch: a labelled example weighs alpha / L per draw, an unlabelled image 1 / B once.
    ratio = alpha / size * counts / (1 / b)
    reference = REFERENCE_RATIO_ALPHA * n / n_l
    np.testing.assert_allclose(ratio.mean(), reference, rtol=1e-12)
    # Uniform draws: every labelled example gets the reference weight up to sampling noise
    # (binomial counts over 640 steps: sd / mean = sqrt((1 - 12/30) / 256) < 5%).
    np.testing.assert_allclose(ratio, reference, rtol=0.2)
    assert alpha == REFERENCE_ALPHA == REFERENCE_RATIO_ALPHA


def test_labelled_bound_weight_counts_the_labelled_set_once_per_data_set():
    _, ds, exp = _m2()
    assert float(exp.hparams["labelled_weight"]) == pytest.approx(30 / len(ds))


def test_other_weightings_stay_a_config_choice(capsys):
    _, ds, exp = _m2(**{"m2.classification_weight": 60.0})
    assert float(exp.hparams["classification_weight"]) == 60.0
    assert capsys.readouterr().err == ""
    # 0 selects the pre-2026-12 default 0.1 N / N_l, with a one-line note.
    _, ds, exp = _m2(**{"m2.classification_weight": 0.0})
    assert float(exp.hparams["classification_weight"]) == pytest.approx(0.1 * len(ds) / 30)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "m2.classification_weight=0" in err[0] and "alpha = 0.1" in err[0]
