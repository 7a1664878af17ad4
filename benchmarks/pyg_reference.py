"""PyTorch Geometric's graph autoencoder example (``examples/autoencoder.py``), as the speed
reference that ``scripts/benchmark_graph.py`` runs alternately with aejax's graph trainer.

The example's model and step: ``GCNConv(F, 32) -> ReLU -> GCNConv(32, 16)`` (VGAE: two heads
``conv_mu``/``conv_logstd``), ``GAE.recon_loss`` (mean ``-log sigmoid`` over the training edges
plus mean ``-log(1 - sigmoid)`` over as many ``negative_sampling`` draws, redrawn every epoch),
``+ kl_loss / N`` for VGAE, Adam lr 0.01, one full-batch step per epoch. ``GCNConv`` as the example
builds it (bias, normalisation recomputed each forward). The graph is the one aejax trains on:
its arrays (loaded by aejax's restricted unpickler, never ``torch_geometric.datasets``' pickle
reader) and its training edges. Nothing in the ``aejax`` package imports this file.

  torch.set_num_threads(cores); ref = PygReference(features, train_edges, variational=True)
  seconds = ref.train_epoch(); auc = ref.test_auc(pos, neg)
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch_geometric.nn import GAE, VGAE, GCNConv


class Encoder(torch.nn.Module):
    """The example's ``GCNEncoder`` / ``VariationalGCNEncoder``."""

    def __init__(self, in_channels: int, out_channels: int, variational: bool):
        super().__init__()
        self.variational = variational
        self.conv1 = GCNConv(in_channels, 2 * out_channels)
        self.conv_mu = GCNConv(2 * out_channels, out_channels)
        if variational:
            self.conv_logstd = GCNConv(2 * out_channels, out_channels)

    def forward(self, x, edge_index):
        h = self.conv1(x, edge_index).relu()
        if self.variational:
            return self.conv_mu(h, edge_index), self.conv_logstd(h, edge_index)
        return self.conv_mu(h, edge_index)


class PygReference:
    """Full-batch training of the example's (V)GAE on one split.

    Args:
      features: ``float [N, F]`` node features.
      train_edges: ``int [E, 2]`` undirected training edges, each once.
      variational: VGAE (True) or GAE.
      seed: ``torch.manual_seed``.
    """

    def __init__(self, features: np.ndarray, train_edges: np.ndarray, variational: bool, seed=0):
        torch.manual_seed(seed)
        self.x = torch.as_tensor(np.asarray(features, np.float32))
        edges = torch.as_tensor(np.asarray(train_edges, np.int64).T)
        self.pos = edges  # the example's pos_edge_label_index: each training edge once
        self.edge_index = torch.cat([edges, edges.flip(0)], 1)  # message passing: both ways
        self.variational = variational
        encoder = Encoder(self.x.shape[1], 16, variational)
        self.model = VGAE(encoder) if variational else GAE(encoder)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.01)

    def train_epoch(self) -> float:
        """One step of the example's ``train()``; returns its wall time in seconds."""
        start = time.perf_counter()
        self.model.train()
        self.optimizer.zero_grad()
        z = self.model.encode(self.x, self.edge_index)
        loss = self.model.recon_loss(z, self.pos)
        if self.variational:
            loss = loss + (1 / self.x.shape[0]) * self.model.kl_loss()
        loss.backward()
        self.optimizer.step()
        return time.perf_counter() - start

    @torch.no_grad()
    def test_auc(self, positives: np.ndarray, negatives: np.ndarray) -> float:
        """ROC AUC of held-out ``positives`` against ``negatives`` (``[K, 2]`` each)."""
        self.model.eval()
        z = self.model.encode(self.x, self.edge_index)
        pairs = torch.as_tensor(np.concatenate([positives, negatives]).T.astype(np.int64))
        scores = self.model.decoder(z, pairs, sigmoid=True).numpy()
        truth = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
        return float(roc_auc_score(truth, scores))
