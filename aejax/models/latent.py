"""What sampling the latent variables of a model returns, for any number of stochastic layers."""

from __future__ import annotations

from typing import NamedTuple

from aejax.types import Array


class LatentSample(NamedTuple):
    """One reparameterised sample of all latent variables of a model given ``x``.

    Attributes:
      z: ``[B, D]`` the code the decoder reads.
      kl_per_dim: ``[B, D_total]`` KL(q || p) per latent dimension of every layer (nats),
        analytic where the pair allows it (for lower layers of a hierarchy: given the sample of
        the layer above); summing it gives the KL term of the ELBO.
      log_q: ``[B]`` log q(all layers | x) at the sample (nats).
      log_p: ``[B]`` log p(all layers) at the sample (nats); ``log_p - log_q`` plus the
        reconstruction log-likelihood is one importance log-weight.
      codes: every layer's sample, bottom first.
    """

    z: Array
    kl_per_dim: Array
    log_q: Array
    log_p: Array
    codes: tuple
