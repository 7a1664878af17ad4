"""Graph autoencoder objectives: weighted adjacency reconstruction (+ KL for VGAE), per node.

The reference implementation (Kipf & Welling 2016) minimises, over all N^2 node pairs of the
target ``A_label = A_train + I``,

    norm * mean_ij [ pos_weight * A_ij * -log s(l_ij) + (1 - A_ij) * -log(1 - s(l_ij)) ]
      + (1 / N) * mean_i KL(q(z_i) || N(0, I))          (VGAE only; weighted by ``beta``)

with ``l = Z Z^T`` and ``pos_weight``, ``norm`` from :func:`aejax.data.edge_split.training_inputs`.
Here that cost is written as a mean over nodes of a per-node ``loss [N]`` (row ``i`` carries
row ``i`` of the double sum), so the train step's ``loss.mean()`` is exactly the reference cost.

``negatives = 0`` evaluates the N^2 sum densely (the reference; memory N^2). ``negatives = k``
keeps the exact sum over the ``P`` target ones and replaces the sum over the ``N^2 - P`` others
by ``(N^2 - P) / K`` times its sum over ``K = k P`` pairs drawn uniformly among them
(:mod:`aejax.objectives.non_edges`): an unbiased estimate of the dense cost, with the same
weighting, in O(P) time and memory. The weighting is balanced: with ``pos_weight`` and ``norm`` as
the reference sets them, the cost is half the mean over target ones plus half the mean over the
others (up to the self-loops): half the loss PyTorch Geometric's ``GAE.recon_loss`` estimates.

Negatives never include a training edge or a self-loop (they are target ones). They may hit a
held-out validation or test edge, with the same probability as any other non-edge: the dense
reference cost also counts those pairs as non-edges, and steering the draws away from them would
let the held-out edges shape training.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from aejax.models.graph import dense_logits, edge_logits
from aejax.objectives import non_edges
from aejax.types import Array, Batch, HParams, LossTerms, PRNGKey


@jax.custom_jvp
def softplus(x: Array) -> Array:
    """``log(1 + e^x)`` as ``relu(x) + log1p(e^-|x|)`` with the derivative ``sigmoid(x)``.

    The same function as ``jax.nn.softplus``; this form and its explicit derivative fuse into
    fewer passes over the N x N logits (the gain: docs/performance.md).
    """
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return softplus(x), jax.nn.sigmoid(x) * dx


def reconstruction_per_node(
    z: Array, batch: Batch, key: PRNGKey | None, negatives: int = 0
) -> Array:
    """Row ``i`` of the weighted reconstruction cost, ``[N]`` (mean over ``i`` = the cost)."""
    n = z.shape[0]
    src, dst = batch["label_src"], batch["label_dst"]
    pos_weight, norm = batch["pos_weight"], batch["norm"]
    pos = edge_logits(z, src, dst)
    if not negatives:
        # Sum over all pairs of -log(1 - s(l)) = softplus(l), then swap the target ones' term
        # for their weighted -log s(l) = softplus(-l): no N x N target matrix is ever built.
        rows = jax.ops.segment_sum(pos_weight * softplus(-pos) - softplus(pos), src, num_segments=n)
        return norm * (rows + softplus(dense_logits(z)).sum(axis=1)) / n
    rows = jax.ops.segment_sum(pos_weight * softplus(-pos), src, num_segments=n)
    i, j, valid = non_edges.sample_outside(
        key, batch["label_indptr"], batch["label_indices"], negatives * src.shape[0]
    )
    neg = jnp.where(valid, softplus(edge_logits(z, i, j)), 0.0)
    outside = jnp.float32(n) * n - src.shape[0]  # N^2 - P pairs the draws stand for
    scale = outside / jnp.maximum(valid.sum(), 1)
    return norm * (rows + scale * jax.ops.segment_sum(neg, i, num_segments=n)) / n


def _terms(model, batch, key, hparams, *, train, negatives, with_kl):
    sample_key, negatives_key = jax.random.split(key)
    q = model.encode(batch.get("features"), batch["graph"])
    z = q.sample(sample_key) if train else q.mean()
    recon = reconstruction_per_node(z, batch, negatives_key, negatives)
    if not with_kl:
        return LossTerms(loss=recon, terms={"recon": recon})
    kl = q.kl_divergence(model.prior())
    n = z.shape[0]
    loss = recon + hparams["beta"] * kl / n
    return LossTerms(loss=loss, terms={"recon": recon, "kl": kl, "neg_elbo": recon + kl / n})


def negative_elbo(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    negatives: int = 0,
) -> LossTerms:
    """VGAE: weighted reconstruction of a sampled Z plus ``beta * KL / N`` per node.

    Terms ``[N]``: ``recon`` (weighted cross-entropy, row ``i``), ``kl`` (nats, node ``i``),
    ``neg_elbo`` (``recon + kl / N``).
    """
    del step
    return _terms(model, batch, key, hparams, train=train, negatives=negatives, with_kl=True)


def reconstruction(
    model,
    batch: Batch,
    key: PRNGKey,
    hparams: HParams,
    *,
    step: Array,
    train: bool,
    negatives: int = 0,
) -> LossTerms:
    """GAE: weighted reconstruction of the deterministic codes, ``[N]``."""
    del step
    return _terms(model, batch, key, hparams, train=train, negatives=negatives, with_kl=False)


def with_negatives(objective: Callable, negatives: int) -> Callable:
    """``objective`` with the number of sampled pairs per target one fixed (0 = dense)."""
    return functools.partial(objective, negatives=int(negatives))
