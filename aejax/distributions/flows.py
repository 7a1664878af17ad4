"""A normalizing-flow prior: RealNVP affine coupling layers on top of N(0, I).

``z = f(u)`` with ``u ~ N(0, I)`` and ``f = f_{L-1} o ... o f_0``. Layer ``i`` keeps the
coordinates where ``mask_i = 1`` (even indices for even ``i``, odd ones for odd ``i``) and moves the
others by an affine map whose shift and log-scale are computed from the kept ones:

    f_i(u) = u * exp(s(m u) (1 - m)) + t(m u) (1 - m),   log|det df_i/du| = sum (1 - m) s(m u).

Both directions cost one conditioner pass per layer, so ``log_prob`` (which runs ``f^-1``, as the
Monte-Carlo KL needs) and ``sample`` (which runs ``f``) are equally cheap.

References:
  Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017, eqs. 4-9
  (affine coupling, its Jacobian, masks alternating between layers).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from aejax.types import Array, PRNGKey

_LOG_2PI = math.log(2.0 * math.pi)
# Log-scales are soft-clamped to (-LOG_SCALE_BOUND, LOG_SCALE_BOUND) with a scaled tanh: identity
# near 0, so a zero-initialised flow is exactly the identity, but one layer can never scale a
# coordinate by more than e^3 (RealNVP's tanh-bounded scale, for stable early training).
LOG_SCALE_BOUND = 3.0

# One coupling layer: {"kernels": ([D, H1], ..., [Hn, 2D]), "biases": ([H1], ..., [2D])}.
CouplingParams = dict[str, tuple[Array, ...]]


def coupling_mask(layer: int, latent_dim: int) -> np.ndarray:
    """``float32 [D]``: 1 where layer ``layer`` leaves the coordinate unchanged (alternating)."""
    return (np.arange(latent_dim) % 2 == layer % 2).astype(np.float32)


def _shift_and_log_scale(params: CouplingParams, kept: Array) -> tuple[Array, Array]:
    """The conditioner MLP (tanh hidden layers): ``kept [N, D] -> (shift, log_scale) [N, D]``."""
    h = kept
    kernels, biases = params["kernels"], params["biases"]
    for w, b in zip(kernels[:-1], biases[:-1], strict=True):
        h = jnp.tanh(h @ w + b[None])
    out = h @ kernels[-1] + biases[-1][None]
    shift, raw = jnp.split(out, 2, axis=-1)
    return shift, LOG_SCALE_BOUND * jnp.tanh(raw / LOG_SCALE_BOUND)


@struct.dataclass
class RealNVP:
    """A RealNVP flow distribution over ``latent_dim`` dimensions with an N(0, I) base.

    Attributes:
      layers: one :data:`CouplingParams` per coupling layer, applied in order by :meth:`forward`.
      latent_dim: ``D``.
    """

    layers: tuple[Any, ...]
    latent_dim: int = struct.field(pytree_node=False)

    def _flat(self, x: Array) -> Array:
        return x.reshape((-1, self.latent_dim))

    def forward(self, u: Array) -> tuple[Array, Array]:
        """``u [..., D] -> (z = f(u) [..., D], log|det df/du| [...])``: noise to latent."""
        x = self._flat(u)
        log_det = jnp.zeros(x.shape[:1], x.dtype)
        for i, params in enumerate(self.layers):
            keep = jnp.asarray(coupling_mask(i, self.latent_dim))[None]
            shift, log_scale = _shift_and_log_scale(params, x * keep)
            shift, log_scale = shift * (1.0 - keep), log_scale * (1.0 - keep)
            x = x * jnp.exp(log_scale) + shift
            log_det = log_det + log_scale.sum(-1)
        return x.reshape(u.shape), log_det.reshape(u.shape[:-1])

    def inverse(self, z: Array) -> tuple[Array, Array]:
        """``z [..., D] -> (u = f^-1(z) [..., D], log|det df^-1/dz| [...])``: latent to noise."""
        x = self._flat(z)
        log_det = jnp.zeros(x.shape[:1], x.dtype)
        for i in reversed(range(len(self.layers))):
            keep = jnp.asarray(coupling_mask(i, self.latent_dim))[None]
            shift, log_scale = _shift_and_log_scale(self.layers[i], x * keep)
            shift, log_scale = shift * (1.0 - keep), log_scale * (1.0 - keep)
            x = (x - shift) * jnp.exp(-log_scale)
            log_det = log_det - log_scale.sum(-1)
        return x.reshape(z.shape), log_det.reshape(z.shape[:-1])

    def log_prob(self, z: Array) -> Array:
        """``log p(z) = log N(f^-1(z); 0, I) + log|det df^-1/dz|``: ``[..., D] -> [...]`` (nats)."""
        u, log_det = self.inverse(z)
        return -0.5 * (u**2 + _LOG_2PI).sum(-1) + log_det

    def sample(self, key: PRNGKey, sample_shape: tuple[int, ...] = ()) -> Array:
        """``[*sample_shape, D]``: ``f(u)`` for ``u ~ N(0, I)`` drawn from ``key``."""
        u = jax.random.normal(key, tuple(sample_shape) + (self.latent_dim,), jnp.float32)
        return self.forward(u)[0]
