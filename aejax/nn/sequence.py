"""ConvLSTM encoder and decoder for sequences: the networks of a sequence autoencoder.

Together they form the composite model of Srivastava, Mansimov & Salakhutdinov (ICML 2015,
section 2.3) with the convolutional recurrence of Shi et al. (NeurIPS 2015, section 3.3,
"encoding-forecasting structure"): an encoder ConvLSTM reads the first ``context_frames`` frames;
its final state is the code; from the code two ConvLSTMs unroll without input, one reconstructing
the observed frames (in reverse order, as Srivastava et al. do: the most recent frame first) and
one forecasting the rest. Both networks plug into :class:`aejax.models.AutoEncoder` like the image
networks: the encoder returns features ``[B, F]`` for a posterior head, the decoder maps a code
``[B, D]`` to likelihood parameters for every frame, so the usual posteriors (Gaussian for the VAE,
Delta for the AE), priors and objectives (``elbo``, ``reconstruction``) apply unchanged.

Each frame passes through the same small conv stack (stride-2 3x3 convs down; nearest x2 resize
plus 3x3 conv up, as in :mod:`aejax.nn.conv`), so the ConvLSTMs run on feature maps
``2^len(channels)`` times smaller than the frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax.nn.conv import _start_size
from aejax.nn.convlstm import ConvLSTM
from aejax.nn.mlp import ACTIVATIONS
from aejax.types import Array


def _frames(fn, x: Array) -> Array:
    """Applies ``fn`` to every frame of ``x: [B, T, ...]`` at once (time folded into batch)."""
    b, t = x.shape[:2]
    out = fn(x.reshape(b * t, *x.shape[2:]))
    return out.reshape(b, t, *out.shape[1:])


class ConvLSTMEncoder(nn.Module):
    """``x: [B, T, H, W, C]`` -> features ``[B, out_features]`` of the first ``context_frames``.

    Attributes:
      channels: output channels of the per-frame stride-2 convs (each halves H and W).
      features: channels of the ConvLSTM state.
      kernel_size: ConvLSTM kernel side (Shi et al. use 5).
      context_frames: how many leading frames are read (the rest are never seen).
      out_features: width of the final linear layer on the flattened final state ``(C, H)``.
    """

    channels: Sequence[int]
    features: int
    kernel_size: int
    context_frames: int
    out_features: int
    activation: str = "relu"
    peephole: bool = True

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        del train
        act = ACTIVATIONS[self.activation]

        def down(frames: Array) -> Array:
            for c in self.channels:
                frames = act(nn.Conv(c, (3, 3), strides=(2, 2), padding="SAME")(frames))
            return frames

        h = _frames(down, x[:, : self.context_frames])
        k = (self.kernel_size, self.kernel_size)
        (cell, hidden), _ = ConvLSTM(self.features, k, self.peephole, name="encoder_rnn")(h)
        state = jnp.concatenate([cell, hidden], axis=-1).reshape(x.shape[0], -1)
        return nn.Dense(self.out_features)(state)


class ConvLSTMDecoder(nn.Module):
    """Code ``z: [B, D]`` -> per-frame outputs ``[B, T, H, W, C_out]``.

    Frames ``0 .. context_frames - 1`` are reconstructions, the rest predictions. A dense layer
    maps ``z`` to the initial states ``(C, H)`` of the reconstructor and of the forecaster (``H``
    through tanh, the range a ConvLSTM's hidden state has); each unrolls with no input.

    Attributes:
      channels: output channels of the per-frame x2 upsampling convs (``len(channels)`` of
        them); a 3x3 conv then gives ``C_out``. The state maps are ``ceil(H / 2^L)`` wide and the
        output is cropped to ``(H, W)``.
      out_shape: ``(T, H, W, C_out)``.
    """

    channels: Sequence[int]
    features: int
    kernel_size: int
    context_frames: int
    out_shape: tuple[int, int, int, int]
    activation: str = "relu"
    peephole: bool = True

    @nn.compact
    def __call__(self, z: Array, *, train: bool = False) -> Array:
        del train
        act = ACTIVATIONS[self.activation]
        num_frames, height, width, c_out = self.out_shape
        b, f = z.shape[0], self.features
        h0, w0 = _start_size(height, len(self.channels)), _start_size(width, len(self.channels))
        init = nn.Dense(h0 * w0 * 4 * f, name="initial_state")(z).reshape(b, h0, w0, 4 * f)
        c_rec, h_rec, c_fut, h_fut = jnp.split(init, 4, axis=-1)
        k = (self.kernel_size, self.kernel_size)
        steps = {
            "reconstructor": self.context_frames,
            "forecaster": num_frames - self.context_frames,
        }
        carries = {
            "reconstructor": (c_rec, jnp.tanh(h_rec)),
            "forecaster": (c_fut, jnp.tanh(h_fut)),
        }
        outputs = []
        for name, t in steps.items():
            if t:
                no_input = jnp.zeros((b, t, h0, w0, 0), z.dtype)
                _, hs = ConvLSTM(f, k, self.peephole, name=name)(no_input, carries[name])
                # The reconstructor emits the most recent frame first (Srivastava et al.).
                outputs.append(hs[:, ::-1] if name == "reconstructor" else hs)
        hs = jnp.concatenate(outputs, axis=1)

        def up(frames: Array) -> Array:
            for c in self.channels:
                n, fh, fw, fc = frames.shape
                frames = jax.image.resize(frames, (n, 2 * fh, 2 * fw, fc), method="nearest")
                frames = act(nn.Conv(c, (3, 3), padding="SAME")(frames))
            return nn.Conv(c_out, (3, 3), padding="SAME")(frames)[:, :height, :width, :]

        return _frames(up, hs)
