"""The autoencoder: five pieces composed, no method-specific code.

beta-VAE, a plain AE, a Gaussian-likelihood VAE or (later) a CVAE differ in which pieces and
which objective a config selects, not in this class.
"""

from __future__ import annotations

import flax.linen as nn

from aejax.types import Array


class AutoEncoder(nn.Module):
    """encoder -> posterior head -> z -> decoder -> likelihood head; plus a prior.

    Attributes:
      encoder: ``x [B, H, W, C] -> features [B, F]``.
      posterior_head: ``features -> q(z|x)``.
      decoder: ``z [B, D] -> [B, H, W, C * params_per_pixel]``.
      likelihood_head: ``decoder output -> p(x|z)``.
      prior: ``() -> p(z)``, or ``(encode) -> p(z)`` if its class sets ``uses_encoder``.
    """

    encoder: nn.Module
    posterior_head: nn.Module
    decoder: nn.Module
    likelihood_head: nn.Module
    prior: nn.Module

    def encode(self, x: Array, *, train: bool = False):
        """q(z|x) for ``x: [B, H, W, C]``."""
        return self.posterior_head(self.encoder(x, train=train))

    def decode(self, z: Array, *, train: bool = False):
        """p(x|z) for ``z: [B, D]``."""
        return self.likelihood_head(self.decoder(z, train=train))

    def prior_dist(self):
        """p(z). A prior whose class sets ``uses_encoder`` (the VampPrior) gets ``self.encode``."""
        if getattr(type(self.prior), "uses_encoder", False):
            return self.prior(self.encode)
        return self.prior()

    def __call__(self, x: Array, *, train: bool = False):
        """Runs every piece once (used by ``init``); returns (posterior, likelihood at the mode)."""
        posterior = self.encode(x, train=train)
        self.prior_dist()
        return posterior, self.decode(posterior.mode(), train=train)
