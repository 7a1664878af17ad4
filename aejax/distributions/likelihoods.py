"""Observation models p(x|z) built from decoder outputs. ``log_prob`` sums over ``[H, W, C]``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import struct

from aejax.distributions.posteriors import lift
from aejax.types import Array, PRNGKey

_LOG_2PI = math.log(2.0 * math.pi)


def _sum_event(x: Array, event_ndim: int) -> Array:
    return x.sum(axis=tuple(range(x.ndim - event_ndim, x.ndim)))


@struct.dataclass
class Bernoulli:
    """Independent Bernoulli pixels with ``logits`` shaped like the image ``[..., H, W, C]``.

    ``log_prob`` is minus the binary cross-entropy; for targets in [0, 1] that are not binary it is
    still the usual BCE reconstruction term (not a normalised density).
    """

    logits: Array
    event_ndim: int = struct.field(pytree_node=False, default=3)

    def mean(self) -> Array:
        return jax.nn.sigmoid(self.logits)

    def mode(self) -> Array:
        return (self.logits > 0).astype(self.logits.dtype)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        shape = tuple(sample_shape) + self.logits.shape
        probs = lift(jax.nn.sigmoid(self.logits), len(shape))
        return jax.random.bernoulli(key, probs, shape).astype(jnp.float32)

    def log_prob(self, x: Array) -> Array:
        """``sum x*log(p) + (1-x)*log(1-p)`` over the event axes, computed stably from logits."""
        n = max(x.ndim, self.logits.ndim)
        x, logits = lift(x, n), lift(self.logits, n)
        # x log s(l) + (1-x) log s(-l) = x l - softplus(l): one exp and one log1p per pixel
        # instead of two of each (the IWAE pass evaluates this 4e10 times on MNIST).
        softplus = jnp.maximum(logits, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(logits)))
        per_pixel = x * logits - softplus
        return _sum_event(per_pixel, self.event_ndim)


@struct.dataclass
class Gaussian:
    """Independent Gaussian pixels N(loc, exp(log_scale)^2); ``log_scale`` broadcasts to ``loc``.

    With a fixed ``log_scale`` this is MSE up to constants: ``-log p = ||x-loc||^2/(2 s^2) + ...``.
    """

    loc: Array
    log_scale: Array
    event_ndim: int = struct.field(pytree_node=False, default=3)

    def mean(self) -> Array:
        return self.loc

    def mode(self) -> Array:
        return self.loc

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        shape = tuple(sample_shape) + self.loc.shape
        n = len(shape)
        eps = jax.random.normal(key, shape, self.loc.dtype)
        return lift(self.loc, n) + lift(jnp.exp(self.log_scale), n) * eps

    def log_prob(self, x: Array) -> Array:
        n = max(x.ndim, self.loc.ndim)
        x, loc, log_scale = lift(x, n), lift(self.loc, n), lift(jnp.asarray(self.log_scale), n)
        z = (x - loc) * jnp.exp(-log_scale)
        per_pixel = -0.5 * z**2 - log_scale - 0.5 * _LOG_2PI
        shape = jnp.broadcast_shapes(x.shape, loc.shape)
        return _sum_event(jnp.broadcast_to(per_pixel, shape), self.event_ndim)


# Below this |logit| / 2 the log-normaliser uses its Taylor series (the closed form is 0/0 at 0).
_CB_TAYLOR_BELOW = 0.05
# Below this |logit| the mean uses its Taylor series (the closed form cancels 1/eta - 1/eta).
_CB_MEAN_TAYLOR_BELOW = 0.25


def continuous_bernoulli_log_norm(logits: Array) -> Array:
    """``log C(lambda)`` of the continuous Bernoulli, elementwise, from ``logits = logit(lambda)``.

    ``C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)`` (Loaiza-Ganem & Cunningham 2019, eq. 7)
    is ``eta / tanh(eta / 2)`` in terms of ``eta = logit(lambda)``: even in ``eta``, equal to 2 at
    ``lambda = 0.5`` and growing like ``|eta|``. With ``a = |eta| / 2``,
    ``log C = log 2 + log(a / tanh a)``; for ``a < 0.05`` this uses
    ``a coth a = 1 + a^2/3 - a^4/45 + 2 a^6/945`` (error below 1e-14), otherwise
    ``log a - log(-expm1(-2a)) + log1p(exp(-2a))``, which is exact and cannot overflow.
    """
    a2 = 0.25 * logits**2
    small = a2 < _CB_TAYLOR_BELOW**2
    # Each branch gets an argument where it is well defined, so no NaN reaches the gradient.
    a2_small = jnp.where(small, a2, 0.0)
    taylor = jnp.log1p(a2_small / 3.0 - a2_small**2 / 45.0 + 2.0 * a2_small**3 / 945.0)
    a = jnp.sqrt(jnp.where(small, _CB_TAYLOR_BELOW**2, a2))
    exact = jnp.log(a) - jnp.log(-jnp.expm1(-2.0 * a)) + jnp.log1p(jnp.exp(-2.0 * a))
    return math.log(2.0) + jnp.where(small, taylor, exact)


@struct.dataclass
class ContinuousBernoulli:
    """Continuous Bernoulli pixels on [0, 1]: ``p(x) = C(lambda) lambda^x (1 - lambda)^(1-x)``.

    A normalised density for non-binary pixels in [0, 1], unlike BCE (which lacks ``log C``).
    ``logits = logit(lambda)``, shaped like the image ``[..., H, W, C]``.

    References:
      Loaiza-Ganem & Cunningham, "The continuous Bernoulli: fixing a pervasive error in
      variational autoencoders", NeurIPS 2019, eq. 7 (density and normaliser) and App. (mean).
    """

    logits: Array
    event_ndim: int = struct.field(pytree_node=False, default=3)

    def mean(self) -> Array:
        """``E[x] = 1 / (1 - exp(-eta)) - 1 / eta`` (0.5 at ``eta = 0``), elementwise."""
        eta = self.logits
        small = jnp.abs(eta) < _CB_MEAN_TAYLOR_BELOW
        e_small = jnp.where(small, eta, 0.0)
        taylor = 0.5 + e_small / 12.0 - e_small**3 / 720.0
        e_big = jnp.where(small, _CB_MEAN_TAYLOR_BELOW, eta)
        exact = -1.0 / jnp.expm1(-e_big) - 1.0 / e_big
        return jnp.where(small, taylor, exact)

    def mode(self) -> Array:
        return (self.logits > 0).astype(self.logits.dtype)

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        """Inverse-CDF draws ``[*sample_shape, ...]``, reparameterised in ``logits``.

        ``F(x) = expm1(eta x) / expm1(eta)``; for ``eta > 0`` the inverse is computed as
        ``1 + log1p((1 - u) expm1(-eta)) / eta`` (no overflow), and ``1 - x`` is used for
        ``eta < 0`` (``1 - X ~ CB(-eta)``).
        """
        shape = tuple(sample_shape) + self.logits.shape
        u = jax.random.uniform(key, shape, jnp.float32, minval=0.0, maxval=1.0)
        eta = lift(self.logits, len(shape))
        a = jnp.abs(eta)
        v = jnp.where(eta >= 0, u, 1.0 - u)
        tiny = a < 1e-6
        a_safe = jnp.where(tiny, 1.0, a)
        y = 1.0 + jnp.log1p((1.0 - v) * jnp.expm1(-a_safe)) / a_safe
        y = jnp.where(tiny, v, y)
        return jnp.clip(jnp.where(eta >= 0, y, 1.0 - y), 0.0, 1.0)

    def log_prob(self, x: Array) -> Array:
        """``sum x log(lambda) + (1-x) log(1-lambda) + log C(lambda)`` over the event axes."""
        n = max(x.ndim, self.logits.ndim)
        x, logits = lift(x, n), lift(self.logits, n)
        per_pixel = (
            x * jax.nn.log_sigmoid(logits)
            + (1.0 - x) * jax.nn.log_sigmoid(-logits)
            + continuous_bernoulli_log_norm(logits)
        )
        return _sum_event(per_pixel, self.event_ndim)
