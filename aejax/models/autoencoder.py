"""The autoencoder: five pieces composed, plus two optional players; no method-specific code.

beta-VAE, a plain AE, a Gaussian-likelihood VAE, a CVAE, FactorVAE or M2 differ in which pieces
and which objective a config selects, not in this class:

* ``num_classes > 0`` conditions q(z|x, y) and p(x|z, y) on a one-hot label (CVAE, M2). The label
  joins the encoder's features just before the posterior head and the latent code just before
  the decoder, so any encoder/decoder network can be conditioned without changing it.
* ``critic`` is a second player (a discriminator on codes for FactorVAE, WAE-GAN and the
  adversarial autoencoder). Its parameters live under ``params["critic"]``; those objectives
  declare it as an extra player (:data:`aejax.objectives.adversarial.CRITIC`), so the train step
  updates it with the objective's ``aux_loss`` and its own optimizer, everything else with
  ``loss``.
* ``classifier`` is q(y|x) (M2's inference network for the label).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax.models.latent import LatentSample
from aejax.types import Array, Batch, PRNGKey


class AutoEncoder(nn.Module):
    """encoder -> posterior head -> z -> decoder -> likelihood head; plus a prior.

    Attributes:
      encoder: ``x [B, H, W, C] -> features [B, F]``.
      posterior_head: ``features [B, F (+ num_classes)] -> q(z|x)``.
      decoder: ``z [B, D (+ num_classes)] -> [B, H, W, C * params_per_pixel]``.
      likelihood_head: ``decoder output -> p(x|z)``.
      prior: ``() -> p(z)``, or ``(encode) -> p(z)`` if its class sets ``uses_encoder``.
      num_classes: ``> 0`` for a label-conditioned model; ``0`` otherwise.
      critic: optional ``z [B, D] -> logits [B, O]`` second player.
      classifier: optional ``x [B, H, W, C] -> class logits [B, num_classes]``.
    """

    encoder: nn.Module
    posterior_head: nn.Module
    decoder: nn.Module
    likelihood_head: nn.Module
    prior: nn.Module
    num_classes: int = 0
    critic: nn.Module | None = None
    classifier: nn.Module | None = None

    def encode(self, x: Array, cond: Array | None = None, *, train: bool = False):
        """q(z|x) (or q(z|x, y)) for ``x: [B, H, W, C]`` and ``cond: [B, num_classes]``."""
        return self.posterior_from(self.encoder(x, train=train), cond)

    def _unknown_label(self, batch: int) -> Array | None:
        """What a conditional model reads when no label is given: an all-zero "label unknown"
        vector (so generic evaluation code runs; label-aware evaluation passes the labels)."""
        return jnp.zeros((batch, self.num_classes), jnp.float32) if self.num_classes else None

    def posterior_from(self, features: Array, cond: Array | None = None):
        """q(z|x, y) from encoder features ``[B, F]``: lets M2 run the encoder once and the
        head once per candidate label."""
        if cond is None:
            cond = self._unknown_label(features.shape[0])
        if cond is not None:
            features = jnp.concatenate([features, cond.astype(features.dtype)], axis=-1)
        return self.posterior_head(features)

    def decode(self, z: Array, cond: Array | None = None, *, train: bool = False):
        """p(x|z) (or p(x|z, y)) for ``z: [B, D]`` and ``cond: [B, num_classes]``."""
        if cond is None:
            cond = self._unknown_label(z.shape[0])
        if cond is not None:
            z = jnp.concatenate([z, cond.astype(z.dtype)], axis=-1)
        return self.likelihood_head(self.decoder(z, train=train))

    def prior_dist(self):
        """p(z). A prior whose class sets ``uses_encoder`` (the VampPrior) gets ``self.encode``."""
        if getattr(type(self.prior), "uses_encoder", False):
            return self.prior(self.encode)
        return self.prior()

    def sample_latent(
        self, x: Array, key: PRNGKey, cond: Array | None = None, *, train: bool = False
    ) -> LatentSample:
        """One reparameterised ``z ~ q(z|x)`` with its KL and log-densities (the interface a
        hierarchical model shares); the KL is analytic when prior and posterior allow it."""
        posterior = self.encode(x, cond, train=train)
        z = posterior.sample(key)
        prior = self.prior_dist()
        log_q, log_p = posterior.log_prob(z), prior.log_prob(z)
        if hasattr(prior, "kl_from"):
            kl_per_dim = prior.kl_from(posterior)
        else:  # single-sample Monte-Carlo estimate, reported as one "dimension"
            kl_per_dim = (log_q - log_p)[:, None]
        return LatentSample(z=z, kl_per_dim=kl_per_dim, log_q=log_q, log_p=log_p, codes=(z,))

    def sample_codes(self, key: PRNGKey, num: int) -> Array:
        """``[num, D]`` codes drawn from the prior."""
        return self.prior_dist().sample(key, (num,))

    def condition(self, batch: Batch) -> Array | None:
        """The one-hot label ``[B, num_classes]`` a conditional model reads, else ``None``."""
        if not self.num_classes:
            return None
        return self.one_hot(batch["label"])

    def one_hot(self, labels: Array) -> Array:
        """``int[B] -> float32[B, num_classes]``."""
        return jax.nn.one_hot(labels, self.num_classes, dtype=jnp.float32)

    def __call__(self, x: Array, *, train: bool = False):
        """Runs every piece once (used by ``init``); returns (posterior, likelihood at the mode)."""
        cond = jnp.zeros((x.shape[0], self.num_classes), jnp.float32) if self.num_classes else None
        posterior = self.encode(x, cond, train=train)
        self.prior_dist()
        z = posterior.mode()
        if self.critic is not None:
            self.critic(z)
        if self.classifier is not None:
            self.classifier(x, train=train)
        return posterior, self.decode(z, cond, train=train)
