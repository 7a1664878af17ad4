"""Likelihoods over whole sequences, so a sequence autoencoder is an ordinary AutoEncoder.

A ConvLSTM autoencoder (:mod:`aejax.nn.sequence`) is ``AutoEncoder(encoder=ConvLSTMEncoder,
posterior_head, decoder=ConvLSTMDecoder, likelihood_head=SequenceHead(image head), prior)``:
the only piece that knows about time is this wrapper, which makes ``log_prob`` sum over the
frames too (``[B, T, H, W, C] -> [B]``), so the ELBO and reconstruction objectives, the train
step and the loop are the ones images use.
"""

from __future__ import annotations

import flax.linen as nn

from aejax.types import Array


class SequenceHead(nn.Module):
    """Wraps an image likelihood head (Bernoulli or Gaussian): the same per-pixel model, with
    the event ``[T, H, W, C]`` (log-probabilities summed over frames as well)."""

    head: nn.Module

    @property
    def params_per_pixel(self) -> int:
        return self.head.params_per_pixel

    def __call__(self, out: Array):
        return self.head(out).replace(event_ndim=4)
