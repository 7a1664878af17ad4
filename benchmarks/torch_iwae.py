"""A plain, idiomatic PyTorch IWAE evaluation of the ``vae_mnist`` model: the speed reference that
``scripts/iwae_benchmark.py`` runs alternately with aejax's estimator.

The network is the one aejax builds for ``experiments/vae_mnist.py`` (encoder 784-500-ReLU-40,
the posterior head's 40x40 layer, log-variance clamped to [-30, 20], decoder 20-500-ReLU-784
Bernoulli logits), with its weights copied from an aejax parameter tree. The estimator is the
usual one, written the way PyTorch IWAE code writes it: under ``torch.no_grad``, in float32,
examples in batches and importance samples in chunks of ``[S, B]``, ``torch.randn`` noise, the
log weight ``log p(x|z) + log p(z) - log q(z|x)`` (``binary_cross_entropy_with_logits`` and
``torch.distributions.Normal`` without argument validation), a ``logsumexp`` per chunk, then
over chunks, minus ``log K``.
Nothing in the ``aejax`` package imports this.

  torch.set_num_threads(2); ref = TorchIWAE(params); log_px = ref.log_marginal(x, 5000)

References:
  Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016 (eq. 8).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

LOG_VAR_MIN, LOG_VAR_MAX = -30.0, 20.0  # aejax's clamp of the posterior log-variance


def _linear(layer: dict) -> nn.Linear:
    """An ``nn.Linear`` holding a Flax ``Dense`` layer (``kernel [in, out]``, ``bias [out]``)."""
    kernel = np.asarray(layer["kernel"], np.float32)
    linear = nn.Linear(*kernel.shape)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
        linear.bias.copy_(torch.from_numpy(np.array(layer["bias"], np.float32)))
    return linear


class TorchIWAE(nn.Module):
    """The ``vae_mnist`` VAE with aejax's weights, and its IWAE bound.

    Args:
      params: the aejax parameter tree (``variables["params"]``) of a model built from
        ``experiments/vae_mnist.py`` (one hidden layer in the encoder and the decoder).
    """

    def __init__(self, params: dict):
        super().__init__()
        enc, dec = params["encoder"], params["decoder"]
        self.encoder = nn.Sequential(_linear(enc["Dense_0"]), nn.ReLU(), _linear(enc["Dense_1"]))
        self.posterior_head = _linear(params["posterior_head"]["Dense_0"])
        self.decoder = nn.Sequential(_linear(dec["Dense_0"]), nn.ReLU(), _linear(dec["Dense_1"]))
        self.eval()

    def posterior(self, x: torch.Tensor) -> Normal:
        """q(z|x) for ``x [B, 784]``: a ``Normal`` with ``[B, D]`` parameters."""
        mean, log_var = self.posterior_head(self.encoder(x)).chunk(2, dim=-1)
        log_var = log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)
        return Normal(mean, torch.exp(0.5 * log_var), validate_args=False)

    def log_weights(self, x: torch.Tensor, q: Normal, z: torch.Tensor) -> torch.Tensor:
        """Log importance weights ``[S, B]`` of ``x [B, 784]`` at ``z [S, B, D]`` (nats)."""
        s, b, d = z.shape
        logits = self.decoder(z.reshape(s * b, d)).reshape(s, b, -1)
        log_px_z = -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)
        log_pz = Normal(0.0, 1.0, validate_args=False).log_prob(z).sum(-1)
        return log_px_z + log_pz - q.log_prob(z).sum(-1)

    @torch.no_grad()
    def log_marginal(
        self,
        x: torch.Tensor,
        num_samples: int,
        *,
        batch_size: int = 100,
        max_samples_per_call: int = 10_000,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The IWAE bound ``log (1/K) sum_k p(x, z_k) / q(z_k|x)`` per example, ``[N]`` (nats).

        ``x [N, 784]`` (binary); ``K = num_samples`` samples per example, drawn ``S`` at a time
        with ``S * B <= max_samples_per_call`` (at least one sample per chunk).
        """
        out = []
        for xb in x.split(batch_size):
            q = self.posterior(xb)
            chunk = max(1, max_samples_per_call // xb.shape[0])
            chunk_lse = []
            for start in range(0, num_samples, chunk):
                s = min(chunk, num_samples - start)
                z = q.loc + q.scale * torch.randn(
                    (s, *q.loc.shape), generator=generator, dtype=q.loc.dtype
                )
                chunk_lse.append(torch.logsumexp(self.log_weights(xb, q, z), dim=0))
            out.append(torch.logsumexp(torch.stack(chunk_lse), dim=0) - math.log(num_samples))
        return torch.cat(out)
