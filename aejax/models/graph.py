"""GAE / VGAE: a two-layer GCN encoder and an inner-product decoder (Kipf & Welling 2016).

``encode`` gives q(Z | X, A): a :class:`~aejax.distributions.DiagonalGaussian` (VGAE) or a
:class:`~aejax.distributions.Delta` (GAE). The decoder scores a node pair by ``z_i . z_j``, the
logit of an edge. The model does not sample; objectives do, with the key they are given.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from aejax.distributions import Delta, DiagonalGaussian
from aejax.distributions.posteriors import clamp_log_var
from aejax.nn.graph import GCNLayer, GraphOperator
from aejax.types import Array


class GraphAutoEncoder(nn.Module):
    """``hidden = relu(A_hat X W0)``; ``mu = A_hat hidden W1``; VGAE adds
    ``log_std = A_hat hidden W2`` (the reference model's parameterisation; ``log_var = 2 log_std``).

    Attributes:
      hidden: width of the first GCN layer.
      latent_dim: code width D.
      variational: Gaussian posterior (VGAE) when True, Delta (GAE) when False.
      num_nodes: N; used only for featureless graphs (``features=None``).
    """

    hidden: int
    latent_dim: int
    variational: bool
    num_nodes: int = 0

    def setup(self) -> None:
        self.gcn_hidden = GCNLayer(self.hidden, nn.relu, num_nodes=self.num_nodes)
        self.gcn_mean = GCNLayer(self.latent_dim)
        if self.variational:
            self.gcn_log_std = GCNLayer(self.latent_dim)

    def encode(self, features: Array | None, graph: GraphOperator) -> DiagonalGaussian | Delta:
        """Posterior over node codes, ``[N, D]``."""
        h = self.gcn_hidden(features, graph)
        mean = self.gcn_mean(h, graph)
        if not self.variational:
            return Delta(mean)
        return DiagonalGaussian(mean, clamp_log_var(2.0 * self.gcn_log_std(h, graph)))

    def prior(self) -> DiagonalGaussian:
        """p(z) = N(0, I) per node, ``[1, D]`` (broadcasts over nodes)."""
        zeros = jnp.zeros((1, self.latent_dim), jnp.float32)
        return DiagonalGaussian(zeros, zeros)

    def __call__(self, features: Array | None, graph: GraphOperator) -> Array:
        """Posterior mean ``[N, D]`` (used by ``init`` and for embeddings)."""
        return self.encode(features, graph).mean()


def edge_logits(z: Array, src: Array, dst: Array) -> Array:
    """Inner-product decoder for the pairs ``(src[k], dst[k])``: ``[K]`` logits ``z_s . z_d``."""
    return jnp.sum(z[src] * z[dst], axis=-1)


def dense_logits(z: Array) -> Array:
    """Inner-product decoder for every pair: ``[N, N]`` logits ``Z Z^T``."""
    return z @ z.T
