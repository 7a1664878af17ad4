"""The M2 semi-supervised VAE objective (Kingma, Rezende, Mohamed & Welling 2014).

The model is a conditional VAE (``num_classes > 0``) with a classifier q(y|x). Each batch holds
unlabelled images ``image [B, ...]`` and a batch of the labelled pool ``labelled_image [L, ...]``
with ``labelled_label [L]``: the extra batch stream :data:`LABELLED` (see
:class:`aejax.types.Stream`).

* labelled: ``Lab(x, y) = -log p(x|y,z) + KL(q(z|x,y) || p(z)) - log p(y)``, p(y) uniform;
* unlabelled: ``U(x) = sum_y q(y|x) Lab(x, y) - H(q(y|x))``, with the sum over y exact;
* classification: ``-log q(y|x)`` on the labelled batch, weighted by ``alpha``.

Per unlabelled example the loss is ``U(x_i) + labelled_weight * mean_l Lab(x_l, y_l) + alpha *
mean_l CE_l`` with ``labelled_weight = N_l / N`` and ``alpha = 0.1`` by default: Kingma et al.'s
weighting, exactly as their reference code applies it. The derivation from the sampling the
trainer does:

* Kingma et al.'s objective over a data set of ``N`` images of which ``N_l`` are labelled is
  ``J = sum_unlabelled U + sum_labelled Lab + alpha_ref * (N / N_l) * sum_labelled CE`` with
  ``alpha_ref = 0.1`` (eq. 9, ``alpha = 0.1 N`` on the labelled *mean*, which is what their code's
  per-labelled-example weight ``alpha * n_total / n_labelled`` is), divided by ``N``. Per
  labelled example its classification term weighs ``0.1 N / N_l`` times one unlabelled bound.
* The trainer draws, every step, ``B`` unlabelled images from the ``N`` (each once per epoch) and
  ``L`` labelled ones uniformly without replacement from the pool of ``N_l``
  (:func:`aejax.train.epochs.stream_batch`), and minimises the batch mean of the loss above. Its
  expectation is ``mean_n U + (N_l / N) mean_labelled Lab + alpha * mean_labelled CE``, which is
  ``J / N`` exactly when ``alpha = alpha_ref = 0.1``: over one epoch of ``N / B`` steps a labelled
  example is drawn ``(N / B) (L / N_l)`` times with weight ``alpha / L`` each, against one draw
  with weight ``1 / B`` for an unlabelled image, a ratio of ``alpha N / N_l``.

Other weightings are a config choice (``m2.classification_weight``, the paper's alpha):
``alpha = 0.1 N / N_l`` (60 for 100 labels of 60,000, aejax's default before 2026-12 and what
several reimplementations use) weighs each labelled example ``N / N_l`` times more than the
reference; ``m2.classification_weight = 0`` still selects it, for old command lines, with a
one-line note.

References:
  Kingma et al., "Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014, eqs. 6-9.
"""

from __future__ import annotations

import math
import sys

import jax
import jax.numpy as jnp
import numpy as np

from aejax.data.semi_supervised import balanced_subset
from aejax.errors import ConfigError
from aejax.objectives.elbo import kl_to_prior
from aejax.objectives.spec import ObjectiveSpec, StreamSpec
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def _labelled_bound(model, x: Array, features: Array, y_onehot: Array, key: PRNGKey, train: bool):
    """``-ELBO(x, y) - log p(y)`` per row: ``[N]`` (nats), one reparameterised sample."""
    posterior = model.posterior_from(features, y_onehot)
    z = posterior.sample(key)
    recon = -model.decode(z, y_onehot, train=train).log_prob(x)
    kl = kl_to_prior(posterior, model.prior_dist(), z)
    return recon + kl + math.log(model.num_classes)


def m2(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """M2 loss per unlabelled example ``[B]``; terms in nats per example (labelled-batch terms
    are broadcast to ``[B]``): ``unlabelled_bound``, ``labelled_bound``, ``classification_ce``,
    ``labelled_accuracy``, ``class_entropy``."""
    del step
    u_key, l_key = jax.random.split(key)
    k = model.num_classes
    x = batch["image"]
    b = x.shape[0]
    # Unlabelled: the encoder runs once; head and decoder once per candidate label (exact sum).
    features = model.encoder(x, train=train)
    labels = jnp.repeat(jnp.arange(k), b)  # [K * B], label-major
    rep = lambda a: jnp.tile(a, (k,) + (1,) * (a.ndim - 1))  # noqa: E731
    bounds = _labelled_bound(model, rep(x), rep(features), model.one_hot(labels), u_key, train)
    bounds = bounds.reshape(k, b).T  # [B, K]
    log_qy = jax.nn.log_softmax(model.classifier(x, train=train), axis=-1)
    qy = jnp.exp(log_qy)
    unlabelled = (qy * (bounds + log_qy)).sum(-1)

    xl, yl = batch["labelled_image"], batch["labelled_label"]
    lab_features = model.encoder(xl, train=train)
    lab_bound = _labelled_bound(model, xl, lab_features, model.one_hot(yl), l_key, train)
    lab_log_q = jax.nn.log_softmax(model.classifier(xl, train=train), axis=-1)
    ce = -jnp.take_along_axis(lab_log_q, yl[:, None], axis=-1)[:, 0]
    accuracy = (lab_log_q.argmax(-1) == yl).astype(jnp.float32)
    loss = (
        unlabelled
        + hparams["labelled_weight"] * lab_bound.mean()
        + hparams["classification_weight"] * ce.mean()
    )
    full = lambda v: jnp.full((b,), v.mean())  # noqa: E731
    return LossTerms(
        loss=loss,
        terms={
            "unlabelled_bound": unlabelled,
            "class_entropy": -(qy * log_qy).sum(-1),
            "labelled_bound": full(lab_bound),
            "classification_ce": full(ce),
            "labelled_accuracy": full(accuracy),
        },
    )


def select_labelled(ds, key: PRNGKey, size: int, *, num_classes: int) -> np.ndarray:
    """The labelled pool: ``size`` training examples whose labels M2 may use, the same number
    per class (:func:`aejax.data.semi_supervised.balanced_subset`), drawn from ``key``."""
    if not num_classes or size % num_classes:
        raise ConfigError(
            f"data.num_labelled={size} must be a multiple of model.num_classes={num_classes} "
            "(> 0): the labelled pool has the same number of examples per class"
        )
    return balanced_subset(ds.labels, size // num_classes, num_classes, key)


REFERENCE_ALPHA = 0.1  # Kingma et al.'s alpha (their reference code), see the module docstring
# m2.classification_weight (then objective.alpha) = 0 meant ``0.1 N / N_l`` before the reference
# weighting became the default.
LEGACY_ALPHA_NOTE = (
    "note: m2.classification_weight=0 selects the old M2 weighting alpha = 0.1 N / N_l = {alpha:g} "
    "(each labelled example {ratio:g}x Kingma et al.'s); the default is now their alpha = 0.1"
)


def weights(hparams: dict, *, num_examples: int, pools: dict[str, int]) -> dict:
    """``labelled_weight = N_l / N``; ``alpha`` as configured (the default 0.1 is Kingma et al.'s
    reference weighting; 0 selects the old ``0.1 N / N_l`` with a note on stderr)."""
    n = pools[LABELLED.name]
    hparams = {**hparams, "labelled_weight": n / num_examples}
    if not hparams["classification_weight"]:
        hparams["classification_weight"] = REFERENCE_ALPHA * num_examples / n
        print(
            LEGACY_ALPHA_NOTE.format(
                alpha=hparams["classification_weight"], ratio=num_examples / n
            ),
            file=sys.stderr,
        )
    return hparams


LABELLED = StreamSpec(
    name="labelled",
    batch_size_key="data.labelled_batch_size",
    pool_size_key="data.num_labelled",
    select=select_labelled,
    context=("model.num_classes",),
)
OBJECTIVES = {
    "m2": ObjectiveSpec(
        fn=m2,
        group="m2",
        hparams=("classification_weight",),
        networks=("classifier",),
        streams=(LABELLED,),
        derive=weights,
    )
}
