"""The importance-weighted bound as a training objective.

References:
  Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016, eq. 8.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from aejax.objectives.inputs import encoder_input
from aejax.objectives.spec import ObjectiveSpec, Option
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


def log_importance_weights(model, batch: Batch, key: PRNGKey, num_samples: int, train: bool):
    """``(log w, log p(x|z), log p(z), log q(z|x))``, each ``[K, B]``, for ``K = num_samples``
    reparameterised draws ``z_k ~ q(z|x)`` (``log w = log p(x|z) + log p(z) - log q(z|x)``)."""
    x, cond = batch["image"], model.condition(batch)
    posterior = model.encode(encoder_input(batch), cond, train=train)
    z = posterior.sample(key, (num_samples,))  # [K, B, D]
    k, b = z.shape[:2]
    flat = z.reshape((k * b,) + z.shape[2:])
    tile = lambda a: jnp.tile(a, (k,) + (1,) * (a.ndim - 1))  # noqa: E731  sample-major rows
    decoded = model.decode(flat, None if cond is None else tile(cond), train=train)
    log_px = decoded.log_prob(tile(x)).reshape(k, b)
    log_pz = model.prior_dist().log_prob(flat).reshape(k, b)
    log_qz = posterior.log_prob(z)
    return log_px + log_pz - log_qz, log_px, log_pz, log_qz


def iwae(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    num_samples: int = 5,
) -> LossTerms:
    """``-log (1/K) sum_k w_k`` per example with ``K = num_samples`` (static).

    ``K = 1`` is the single-sample ELBO with a Monte-Carlo KL. Terms (nats per example): ``iwae``
    (the bound), and over the same K samples the average ``neg_elbo``, ``recon`` and ``kl``
    (``log q(z|x) - log p(z)``).
    """
    del hparams, step
    log_w, log_px, log_pz, log_qz = log_importance_weights(model, batch, key, num_samples, train)
    bound = -(jax.nn.logsumexp(log_w, axis=0) - math.log(num_samples))
    return LossTerms(
        loss=bound,
        terms={
            "iwae": bound,
            "neg_elbo": -log_w.mean(0),
            "recon": -log_px.mean(0),
            "kl": (log_qz - log_pz).mean(0),
        },
    )


OBJECTIVES = {
    "iwae": ObjectiveSpec(
        fn=iwae,
        group="iwae",
        options={"num_samples": Option("num_samples", minimum=1)},
        needs_density=True,
        corruptible=True,
    )
}
