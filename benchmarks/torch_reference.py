"""A plain, idiomatic PyTorch version of ``experiments/vae_mnist.py``: the speed reference that
``scripts/benchmark.py`` runs alternately with the JAX train loop.

Same architecture as aejax builds it (encoder 784-500-ReLU-40, the posterior head's 40x40 layer,
decoder 20-500-ReLU-784 Bernoulli logits), Adam 1e-3, batch 128, the last partial batch dropped,
dynamic binarisation with ``torch.bernoulli``, the data held as one tensor on the device. The
initialisation is PyTorch's default, not Flax's. Nothing in the ``aejax`` package imports this.

  torch.set_num_threads(cores); ref = TorchReference(images); seconds = ref.train_epoch()
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOG_VAR_MIN, LOG_VAR_MAX = -30.0, 20.0  # aejax's clamp of the posterior log-variance


class VAE(nn.Module):
    """``x [B, D] -> (reconstruction nats, KL nats)``, each summed over the batch."""

    def __init__(self, num_pixels: int = 784, hidden: int = 500, latent: int = 20):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(num_pixels, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent)
        )
        self.posterior_head = nn.Linear(2 * latent, 2 * latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, num_pixels)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.posterior_head(self.encoder(x)).chunk(2, dim=-1)
        log_var = log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = self.decoder(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1.0 + log_var - mean.pow(2) - log_var.exp())
        return recon, kl


class TorchReference:
    """Trains :class:`VAE` one epoch at a time on ``images: float32 [N, ...]`` in [0, 1].

    Args:
      images: training images (flattened to ``[N, D]`` and moved to ``device`` once).
      batch_size, learning_rate, hidden, latent: as in ``experiments/vae_mnist.py``.
      seed: ``torch.manual_seed`` for the initialisation, the permutations and the noise.
      device: ``"cuda"`` when available, else ``"cpu"`` (pass one to override).
      fused_adam: ``torch.optim.Adam(fused=True)`` (one kernel for all parameters; supported on
        CPU and CUDA) instead of the default implementation.
    """

    def __init__(
        self,
        images: np.ndarray,
        *,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        hidden: int = 500,
        latent: int = 20,
        seed: int = 0,
        device: str | None = None,
        fused_adam: bool = False,
    ):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch.manual_seed(seed)
        flat = np.array(images, np.float32).reshape(len(images), -1)  # a writable copy
        self.images = torch.from_numpy(flat).to(self.device)
        self.batch_size = batch_size
        self.model = VAE(self.images.shape[1], hidden, latent).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=learning_rate, fused=True if fused_adam else None
        )
        self.steps_per_epoch = len(flat) // batch_size
        self.last_epoch_loss = float("nan")

    @property
    def examples_per_epoch(self) -> int:
        return self.steps_per_epoch * self.batch_size

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def train_epoch(self) -> float:
        """One epoch over a fresh permutation; returns its wall time in seconds. The mean train
        loss (nats per example) is left in ``last_epoch_loss``."""
        self.model.train()
        self._sync()
        start = time.perf_counter()
        perm = torch.randperm(len(self.images), device=self.device)
        total = torch.zeros((), device=self.device)
        for i in range(self.steps_per_epoch):
            idx = perm[i * self.batch_size : (i + 1) * self.batch_size]
            x = torch.bernoulli(self.images[idx])
            recon, kl = self.model(x)
            loss = (recon + kl) / x.shape[0]
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.detach()
        self.last_epoch_loss = float(total) / self.steps_per_epoch
        self._sync()
        return time.perf_counter() - start

    @torch.no_grad()
    def negative_elbo(self, images: np.ndarray, batch_size: int = 500) -> float:
        """Mean negative ELBO (nats) on ``images`` as given (binarise them first), one sample."""
        self.model.eval()
        x_all = torch.from_numpy(np.array(images, np.float32).reshape(len(images), -1))
        x_all = x_all.to(self.device)
        total = 0.0
        for start in range(0, len(x_all), batch_size):
            recon, kl = self.model(x_all[start : start + batch_size])
            total += float(recon + kl)
        return total / len(x_all)
