"""Bits per dimension: when ``-log p(x)`` is a code length, and on which scale.

``-log2 p(x) / D`` is a number of bits per pixel and channel only when ``p`` is a probability of
the discrete values the data take. :func:`rule` decides it per likelihood of
:mod:`aejax.distributions` and per kind of data, read off the values the model is evaluated on
(:func:`data_levels`: ``{0, 1}``, 8-bit levels ``k / 255``, or anything else):

==============================  ================  ==============================  ==========
likelihood                      binary {0, 1}     8-bit ``k / 255``               other
==============================  ================  ==============================  ==========
Bernoulli                       discrete          none: BCE of grey levels        none
DiscretizedLogistic(Mixture)    discrete          discrete                        none
Gaussian, ContinuousBernoulli   none: unbounded   density+8bit-discretisation     none
==============================  ================  ==============================  ==========

* ``"discrete"``: ``p`` is a probability mass function over the pixel values (Bernoulli over
  ``{0, 1}``; the discretized logistics over their 256 levels ``k / 255``, of which 0 and 1 are
  levels 0 and 255), so bits/dim = ``nats / (D ln 2)``.
* ``"density+8bit-discretisation"``: ``p`` is a density on pixel values in [0, 1]. Split [0, 1]
  into 256 bins of width 1/256: a bin's probability is ``P ~ p(x) / 256`` per dimension, so
  ``-log2 P = -log2 p(x) + 8`` and bits/dim = ``(nats + D ln 256) / (D ln 2)`` (a uniform density
  gives exactly 8). This is the scale the bits/dim literature uses for densities on 8-bit data
  (Theis, van den Oord & Bethge 2016, sec. 3.1: with uniform dequantisation ``(k + u) / 256`` it
  is an upper bound on the discrete code length). Here ``p`` is evaluated at the level ``k / 255``
  rather than averaged over its bin: the approximation holds when ``p`` varies little over 1/256
  of the range; a density sharper than one level (a tiny learned sigma) can read below the code
  length of any discrete model, even below 0.
* ``None``, with a reason, where no code length exists: a Bernoulli's ``log_prob`` of grey levels
  is a cross-entropy, not a probability of ``x``; a density at exactly 0 or 1 grows without
  bound as the model sharpens; values off a discrete grid (continuous signals) have no bins.
  8-bit data whose values are all 0 or 1 count as binary.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from aejax.distributions import (
    Bernoulli,
    ContinuousBernoulli,
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    Gaussian,
    bits_per_dim,
)

DISCRETE = "discrete"
DENSITY_8BIT = "density+8bit-discretisation"
EIGHT_BIT_LEVELS = 256
_GRID_TOLERANCE = 1e-3  # in units of one level; float32 k/255 * 255 is off by ~1e-5


@dataclasses.dataclass(frozen=True)
class BitsRule:
    """How (or whether) ``-log p(x)`` in nats becomes bits/dim.

    ``kind``: :data:`DISCRETE`, :data:`DENSITY_8BIT` or ``None`` (not reported); ``density_bins``:
    the bins added for a density (256), else ``None``; ``reason``: one line saying why.
    """

    kind: str | None
    density_bins: int | None
    reason: str

    def bits_per_dim(self, nats: float, num_dims: int) -> float | None:
        """``nats`` (``-log p(x)`` per example) as bits per dimension, ``None`` without a kind."""
        if self.kind is None:
            return None
        return float(bits_per_dim(nats, num_dims, density_bins=self.density_bins))


def on_grid(images: np.ndarray, levels: int) -> bool:
    """Whether every value of ``images`` (in [0, 1]) is ``k / (levels - 1)`` for an integer k."""
    scaled = np.asarray(images, np.float64) * (levels - 1)
    return bool(np.all(np.abs(scaled - np.rint(scaled)) <= _GRID_TOLERANCE))


def data_levels(images: np.ndarray) -> int | None:
    """2 for values all in ``{0, 1}``, 256 for 8-bit levels ``k / 255``, else ``None``."""
    x = np.asarray(images)
    if np.all((x == 0) | (x == 1)):
        return 2
    return EIGHT_BIT_LEVELS if on_grid(x, EIGHT_BIT_LEVELS) else None


def decoder_distribution(model, variables, images: np.ndarray):
    """p(x|z) of one example, traced abstractly (nothing runs): an instance of the model's
    likelihood class whose array fields are ``jax.ShapeDtypeStruct``\\ s."""
    x = jnp.asarray(np.asarray(images[:1], np.float32))
    return jax.eval_shape(lambda v, xb: model.apply(v, xb)[1], variables, x)


def rule(likelihood, images: np.ndarray) -> BitsRule:
    """The :class:`BitsRule` of ``likelihood`` (a p(x|z), e.g. from :func:`decoder_distribution`)
    on ``images [N, ...]`` in [0, 1] as the model sees them (after any binarisation)."""
    name = type(likelihood).__name__
    levels = data_levels(images)
    data = {2: "binary pixels", EIGHT_BIT_LEVELS: "8-bit pixels", None: "non-8-bit pixels"}[levels]
    if isinstance(likelihood, Bernoulli):
        if levels == 2:
            return BitsRule(DISCRETE, None, "Bernoulli on binary pixels: a probability of x")
        return BitsRule(
            None,
            None,
            f"Bernoulli on {data}: its log_prob is a cross-entropy, not a probability of x "
            "(binarise the data or use a discretized logistic)",
        )
    if isinstance(likelihood, (DiscretizedLogistic, DiscretizedLogisticMixture)):
        bins = likelihood.num_bins
        if on_grid(images, bins):
            return BitsRule(DISCRETE, None, f"{name} on {data}: a probability over {bins} levels")
        return BitsRule(
            None, None, f"{name} on {data}: values off its {bins}-level grid have no probability"
        )
    if isinstance(likelihood, (Gaussian, ContinuousBernoulli)):
        if levels == EIGHT_BIT_LEVELS:
            return BitsRule(
                DENSITY_8BIT,
                EIGHT_BIT_LEVELS,
                f"{name} density on 8-bit pixels: -log2 p(x) + 8 per dimension (256 bins)",
            )
        why = "unbounded at 0 and 1" if levels == 2 else "not a probability of discrete values"
        return BitsRule(None, None, f"{name} density on {data}: {why}, so no code length")
    return BitsRule(None, None, f"no bits/dim rule for the likelihood {name}")
