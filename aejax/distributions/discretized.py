"""Discretized logistic likelihoods for 8-bit images, and nats -> bits/dim.

Pixels are values ``k / (num_bins - 1)`` in [0, 1] (``num_bins = 256`` for 8-bit data). A
logistic with mean ``loc`` and scale ``exp(log_scale)`` (both in [0, 1] pixel units) gives bin
``k`` the probability mass between its edges ``(k -/+ 0.5) / (num_bins - 1)``; the first and last
bins extend to -inf and +inf, so the masses of all bins sum to 1 and ``-log_prob`` is a code
length (nats) that :func:`bits_per_dim` converts to the usual bits per dimension. Colour channels
are independent given ``z`` (no autoregressive channel coupling, unlike PixelCNN++).

References:
  Salimans, Karpathy, Chen & Kingma, "PixelCNN++", ICLR 2017, sec. 2.1, eq. 2 (discretized
  logistic mixture, edge bins to +-inf).
  Kingma et al., "Improved variational inference with inverse autoregressive flow", NeurIPS 2016
  (discretized logistic likelihood for VAEs).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import struct

from aejax.distributions.posteriors import lift
from aejax.types import Array, PRNGKey

NUM_BINS = 256


def bits_per_dim(nats: Array | float, num_dims: int, *, density_bins: int | None = None):
    """Converts ``-log p(x)`` in nats per example to bits per dimension.

    Args:
      nats: negative log-likelihood per example (nats), any shape.
      num_dims: dimensions per example, ``H * W * C``.
      density_bins: leave ``None`` when ``nats`` is a code length (a discrete likelihood such as
        the discretized logistic). When ``nats`` is ``-log`` of a *density* over pixel values in
        [0, 1] of data with ``density_bins`` levels, ``num_dims * log(density_bins)`` is added:
        the density on the [0, density_bins) scale the bits/dim literature uses (an upper bound
        on the discrete code length under uniform dequantisation, Theis et al. 2016).

    Returns:
      ``(nats + offset) / (num_dims * ln 2)``, same shape as ``nats``.
    """
    offset = 0.0 if density_bins is None else num_dims * math.log(density_bins)
    return (nats + offset) / (num_dims * math.log(2.0))


def logistic_bin_log_prob(x: Array, loc: Array, log_scale: Array, num_bins: int) -> Array:
    """``log P(bin of x)`` elementwise (all arguments of one shape), stable for every scale.

    ``x`` is snapped to its nearest bin. For interior bins with edges ``lo < hi`` (standardised
    ``b < a``) it uses ``log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) + log sigmoid(-b) +
    log(-expm1(b - a))``, which has no cancellation (PixelCNN++ instead switches to the density at
    the bin centre when the difference underflows).
    """
    top = num_bins - 1
    k = jnp.clip(jnp.round(x * top), 0, top)
    half = 0.5 / top
    inv_scale = jnp.exp(-log_scale)
    a = (k / top + half - loc) * inv_scale
    b = (k / top - half - loc) * inv_scale
    log_cdf_hi = jax.nn.log_sigmoid(a)  # the whole mass below the top edge (first bin)
    log_sf_lo = jax.nn.log_sigmoid(-b)  # the whole mass above the bottom edge (last bin)
    log_mid = log_cdf_hi + log_sf_lo + jnp.log(-jnp.expm1(-2.0 * half * inv_scale))
    return jnp.where(k == 0, log_cdf_hi, jnp.where(k == top, log_sf_lo, log_mid))


def _logistic_mean(loc: Array, log_scale: Array, num_bins: int) -> Array:
    """Exact mean of the discretized logistic: ``sum_{k>=1} P(X >= k) / (num_bins - 1)``."""
    top = num_bins - 1
    inv_scale = jnp.exp(-log_scale)

    def body(k, total):
        return total + jax.nn.sigmoid(-((k - 0.5) / top - loc) * inv_scale)

    # A loop, not a [..., num_bins] array: evaluation batches would otherwise need 256x memory.
    return jax.lax.fori_loop(1, num_bins, body, jnp.zeros_like(loc)) / top


def _logistic_sample(key: PRNGKey, loc: Array, log_scale: Array, num_bins: int) -> Array:
    top = num_bins - 1
    u = jax.random.uniform(key, loc.shape, jnp.float32, minval=1e-6, maxval=1.0 - 1e-6)
    y = loc + jnp.exp(log_scale) * (jnp.log(u) - jnp.log1p(-u))
    return jnp.clip(jnp.round(y * top), 0, top) / top


def _sum_event(x: Array, event_ndim: int) -> Array:
    return x.sum(axis=tuple(range(x.ndim - event_ndim, x.ndim)))


@struct.dataclass
class DiscretizedLogistic:
    """Independent discretized logistic pixels; ``loc`` and ``log_scale`` shaped ``[..., H, W, C]``.

    ``log_prob(x)`` takes ``x`` in [0, 1] (snapped to the nearest of ``num_bins`` levels) and
    returns ``log P(x)`` summed over the event axes, a log probability mass (nats).
    """

    loc: Array
    log_scale: Array
    num_bins: int = struct.field(pytree_node=False, default=NUM_BINS)
    event_ndim: int = struct.field(pytree_node=False, default=3)

    def mean(self) -> Array:
        return _logistic_mean(self.loc, self.log_scale, self.num_bins)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        shape = tuple(sample_shape) + self.loc.shape
        loc, log_scale = (jnp.broadcast_to(lift(a, len(shape)), shape) for a in self._params())
        return _logistic_sample(key, loc, log_scale, self.num_bins)

    def _params(self) -> tuple[Array, Array]:
        return self.loc, jnp.broadcast_to(self.log_scale, self.loc.shape)

    def log_prob(self, x: Array) -> Array:
        loc, log_scale = self._params()
        n = max(x.ndim, loc.ndim)
        shape = jnp.broadcast_shapes(lift(x, n).shape, lift(loc, n).shape)
        x, loc, log_scale = (jnp.broadcast_to(lift(a, n), shape) for a in (x, loc, log_scale))
        return _sum_event(logistic_bin_log_prob(x, loc, log_scale, self.num_bins), self.event_ndim)


@struct.dataclass
class DiscretizedLogisticMixture:
    """A mixture of ``K`` discretized logistics per pixel and channel.

    Attributes:
      logits: ``[..., H, W, C, K]`` unnormalised log mixture weights.
      loc: ``[..., H, W, C, K]`` component means (pixel units).
      log_scale: ``[..., H, W, C, K]`` component log-scales.
    """

    logits: Array
    loc: Array
    log_scale: Array
    num_bins: int = struct.field(pytree_node=False, default=NUM_BINS)
    event_ndim: int = struct.field(pytree_node=False, default=3)

    def mean(self) -> Array:
        means = _logistic_mean(self.loc, self.log_scale, self.num_bins)
        return (jax.nn.softmax(self.logits, axis=-1) * means).sum(-1)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        component_key, noise_key = jax.random.split(key)
        shape = tuple(sample_shape) + self.loc.shape[:-1]
        k = jax.random.categorical(component_key, lift(self.logits, len(shape) + 1), shape=shape)

        def pick(a: Array) -> Array:
            a = jnp.broadcast_to(lift(a, len(shape) + 1), shape + a.shape[-1:])
            return jnp.take_along_axis(a, k[..., None], axis=-1)[..., 0]

        return _logistic_sample(noise_key, pick(self.loc), pick(self.log_scale), self.num_bins)

    def log_prob(self, x: Array) -> Array:
        """``log sum_k pi_k P_k(x)`` per pixel, summed over the event axes: ``[...]`` (nats)."""
        x = x[..., None]
        n = max(x.ndim, self.loc.ndim)
        shape = jnp.broadcast_shapes(lift(x, n).shape, lift(self.loc, n).shape)
        x, loc, log_scale, logits = (
            jnp.broadcast_to(lift(a, n), shape) for a in (x, self.loc, self.log_scale, self.logits)
        )
        per_component = logistic_bin_log_prob(x, loc, log_scale, self.num_bins)
        per_pixel = jax.nn.logsumexp(per_component + jax.nn.log_softmax(logits, axis=-1), axis=-1)
        return _sum_event(per_pixel, self.event_ndim)
