"""A hierarchical VAE with top-down inference (Ladder VAE): several stochastic layers.

Layers are numbered bottom (``0``, the code the decoder reads, ``latent_dim`` wide) to top
(``L-1``). The generative model is ``p(z_top) p(z_{l} | z_{l+1}) ... p(x | z_0)`` with
``p(z_top) = N(0, I)`` and Gaussian conditionals from small MLPs. Inference runs a deterministic
bottom-up pass that proposes ``q_hat_l(z_l | x)`` at every layer, then a top-down pass that
samples each layer from the precision-weighted combination of its bottom-up proposal and the
generative conditional given the sample above (Sønderby et al. 2016, eqs. 17-19):

    sigma_q^2 = 1 / (1/sigma_hat^2 + 1/sigma_p^2)
    mu_q = (mu_hat/sigma_hat^2 + mu_p/sigma_p^2) sigma_q^2

The encoder, decoder, bottom posterior head and likelihood head are the same pieces a flat
:class:`~aejax.models.AutoEncoder` uses; only the ladder between them is new. Objectives and
evaluation use :meth:`sample_latent`, which a flat model offers too.

References:
  Sønderby, Raiko, Maaløe, Sønderby & Winther, "Ladder Variational Autoencoders", NeurIPS 2016.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax.distributions import DiagonalGaussian
from aejax.distributions.posteriors import clamp_log_var
from aejax.models.latent import LatentSample
from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array, PRNGKey


def precision_weighted(proposal: DiagonalGaussian, prior: DiagonalGaussian) -> DiagonalGaussian:
    """The normalised product of two diagonal Gaussians (Ladder VAE's posterior combination)."""
    precision_q = jnp.exp(-proposal.log_var)
    precision_p = jnp.exp(-prior.log_var)
    log_var = -jnp.log(precision_q + precision_p)
    loc = (proposal.loc * precision_q + prior.loc * precision_p) * jnp.exp(log_var)
    return DiagonalGaussian(loc=loc, log_var=clamp_log_var(log_var))


class GaussianMLP(nn.Module):
    """``h [B, F] -> N(mu, sigma^2)`` over ``features`` dims via ``hidden`` layers."""

    hidden: Sequence[int]
    features: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, h: Array) -> DiagonalGaussian:
        act = ACTIVATIONS[self.activation]
        for width in self.hidden:
            h = act(nn.Dense(width)(h))
        loc, log_var = jnp.split(nn.Dense(2 * self.features)(h), 2, axis=-1)
        return DiagonalGaussian(loc=loc, log_var=clamp_log_var(log_var))


class HierarchicalAutoEncoder(nn.Module):
    """Ladder VAE: the flat model's pieces plus ``len(latent_dims)`` stochastic layers above.

    Attributes:
      encoder, posterior_head, decoder, likelihood_head: as in ``AutoEncoder``; the posterior
        head gives the bottom layer's bottom-up proposal.
      latent_dim: width of the bottom layer ``z_0``.
      latent_dims: widths of the layers above, bottom to top (e.g. ``(32,)`` for two layers).
      hidden: widths of the ladder MLPs (bottom-up and top-down, per layer).
      activation: a key of ``ACTIVATIONS``.
    """

    encoder: nn.Module
    posterior_head: nn.Module
    decoder: nn.Module
    likelihood_head: nn.Module
    latent_dim: int
    latent_dims: Sequence[int]
    hidden: Sequence[int] = (256,)
    activation: str = "relu"
    num_classes: int = 0  # no label conditioning for the ladder (kept for the shared interface)
    critic: nn.Module | None = None
    classifier: nn.Module | None = None

    def setup(self):
        dims = (self.latent_dim, *self.latent_dims)
        self.dims = dims
        # Bottom-up: deterministic features d_l and proposals q_hat_l for layers 1..L-1.
        self.up = [nn.Sequential(self._mlp()) for _ in self.latent_dims]
        self.proposals = [GaussianMLP((), d) for d in self.latent_dims]
        # Top-down: p(z_l | z_{l+1}) for layers 0..L-2.
        self.conditionals = [GaussianMLP(tuple(self.hidden), d, self.activation) for d in dims[:-1]]

    def _mlp(self):
        act = ACTIVATIONS[self.activation]
        layers = []
        for w in self.hidden:
            layers += [nn.Dense(w), act]
        return layers

    def _bottom_up(self, x: Array, train: bool) -> list[DiagonalGaussian]:
        features = self.encoder(x, train=train)
        proposals = [self.posterior_head(features)]
        h = features
        for up, head in zip(self.up, self.proposals, strict=True):
            h = up(h)
            proposals.append(head(h))
        return proposals

    def sample_latent(
        self, x: Array, key: PRNGKey, cond: Array | None = None, *, train: bool = False
    ) -> LatentSample:
        """One top-down sample of every layer given ``x [B, H, W, C]`` (see LatentSample)."""
        del cond
        proposals = self._bottom_up(x, train)
        keys = jax.random.split(key, len(proposals))
        top = len(proposals) - 1
        standard = DiagonalGaussian(
            loc=jnp.zeros_like(proposals[top].loc), log_var=jnp.zeros_like(proposals[top].log_var)
        )
        codes, kl_dims, log_q, log_p = [None] * len(proposals), [None] * len(proposals), 0.0, 0.0
        above = None
        for layer in range(top, -1, -1):
            prior = standard if above is None else self.conditionals[layer](above)
            posterior = (
                proposals[layer] if above is None else precision_weighted(proposals[layer], prior)
            )
            z = posterior.sample(keys[layer])
            codes[layer] = z
            kl_dims[layer] = posterior.kl_per_dim(prior)  # analytic given the sample above
            log_q = log_q + posterior.log_prob(z)
            log_p = log_p + prior.log_prob(z)
            above = z
        return LatentSample(
            z=codes[0],
            kl_per_dim=jnp.concatenate(kl_dims, axis=-1),
            log_q=log_q,
            log_p=log_p,
            codes=tuple(codes),
        )

    def encode(self, x: Array, cond: Array | None = None, *, train: bool = False):
        """A deterministic summary for representations: every layer's posterior with the layers
        above at their means, concatenated bottom to top: ``DiagonalGaussian [B, sum dims]``."""
        del cond
        proposals = self._bottom_up(x, train)
        parts, above = [], None
        for layer in range(len(proposals) - 1, -1, -1):
            q = proposals[layer]
            if above is not None:
                q = precision_weighted(q, self.conditionals[layer](above))
            parts.append(q)
            above = q.loc
        parts = parts[::-1]
        return DiagonalGaussian(
            loc=jnp.concatenate([p.loc for p in parts], -1),
            log_var=jnp.concatenate([p.log_var for p in parts], -1),
        )

    def decode(self, z: Array, cond: Array | None = None, *, train: bool = False):
        """p(x | z_0) for the bottom code ``z [B, latent_dim]``."""
        del cond
        return self.likelihood_head(self.decoder(z, train=train))

    def sample_codes(self, key: PRNGKey, num: int) -> Array:
        """Ancestral samples of the bottom code from the generative model: ``[num, latent_dim]``."""
        keys = jax.random.split(key, len(self.dims))
        z = jax.random.normal(keys[-1], (num, self.dims[-1]))
        for layer in range(len(self.dims) - 2, -1, -1):
            z = self.conditionals[layer](z).sample(keys[layer])
        return z

    def condition(self, batch) -> None:
        del batch
        return None

    def __call__(self, x: Array, *, train: bool = False):
        """Runs every piece once (used by ``init``)."""
        sample = self.sample_latent(x, jax.random.key(0), train=train)
        self.sample_codes(jax.random.key(0), 1)
        return self.encode(x, train=train), self.decode(sample.z, train=train)
