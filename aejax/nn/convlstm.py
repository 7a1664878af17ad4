"""Convolutional LSTM (Shi et al. 2015): the cell, and a layer that scans it over time.

Shi, Chen, Wang, Yeung, Wong & Woo, "Convolutional LSTM Network: A Machine Learning Approach
for Precipitation Nowcasting", NeurIPS 2015, eq. 3. The input-to-state and state-to-state maps
of an LSTM are convolutions (``*``), so the hidden state ``H`` and the cell ``C`` are feature
maps ``[h, w, features]``; ``o`` is the elementwise product:

  i_t = sigmoid(W_xi * X_t + W_hi * H_{t-1} + W_ci o C_{t-1} + b_i)
  f_t = sigmoid(W_xf * X_t + W_hf * H_{t-1} + W_cf o C_{t-1} + b_f)
  C_t = f_t o C_{t-1} + i_t o tanh(W_xc * X_t + W_hc * H_{t-1} + b_c)
  o_t = sigmoid(W_xo * X_t + W_ho * H_{t-1} + W_co o C_t + b_o)
  H_t = o_t o tanh(C_t)

The eight convolutions are computed as one convolution of ``[X_t, H_{t-1}]`` (channels
concatenated) with ``4 * features`` outputs in the gate order ``i, f, c, o``: the same linear map,
one kernel ``[k, k, C_x + features, 4 * features]``. The peephole weights ``W_c*`` have one value
per position and channel, as in the paper, so a cell with peepholes is tied to one map size; they
start at zero. ``forget_bias`` is a constant added to the forget pre-activation (Jozefowicz et al.
2015), so that early in training the cell keeps its memory and gradients reach early frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax.types import Array

Carry = tuple[Array, Array]  # (C, H), each [B, h, w, features]


class ConvLSTMCell(nn.Module):
    """One step: ``((C, H), X_t) -> ((C_t, H_t), H_t)`` with ``X_t: [B, h, w, C_x]``.

    Attributes:
      features: channels of ``H`` and ``C``.
      kernel_size: spatial size of the input-to-state and state-to-state kernels (odd; SAME
        padding keeps the map size).
      peephole: include the ``W_c* o C`` terms.
      forget_bias: constant added to the forget gate's pre-activation.
    """

    features: int
    kernel_size: Sequence[int] = (5, 5)
    peephole: bool = True
    forget_bias: float = 1.0

    @nn.compact
    def __call__(self, carry: Carry, x: Array) -> tuple[Carry, Array]:
        c, h = carry
        z = nn.Conv(4 * self.features, tuple(self.kernel_size), padding="SAME", name="conv")(
            jnp.concatenate([x, h.astype(x.dtype)], axis=-1)
        )
        i, f, g, o = jnp.split(z, 4, axis=-1)
        if self.peephole:
            shape = c.shape[1:]  # [h, w, features]: one weight per position and channel
            w_ci, w_cf, w_co = (
                self.param(name, nn.initializers.zeros, shape, jnp.float32)[None]
                for name in ("w_ci", "w_cf", "w_co")
            )
            i = i + w_ci * c
            f = f + w_cf * c
        f = f + self.forget_bias
        c_new = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        if self.peephole:
            o = o + w_co * c_new  # the output gate peeks at the new cell (eq. 3)
        h_new = jax.nn.sigmoid(o) * jnp.tanh(c_new)
        return (c_new, h_new), h_new

    @staticmethod
    def zero_carry(batch: int, size: Sequence[int], features: int) -> Carry:
        """All-zero ``(C, H)`` of shape ``[batch, *size, features]``."""
        zeros = jnp.zeros((batch, *size, features), jnp.float32)
        return zeros, zeros


class ConvLSTM(nn.Module):
    """The cell scanned over time with ``nn.scan`` (one compiled step, shared parameters).

    ``xs: [B, T, h, w, C_x]`` and an optional initial ``(C, H)`` (zeros when ``None``) ->
    ``(final (C, H), H_1..H_T [B, T, h, w, features])``. ``C_x`` may be 0: a decoder with no input
    just unrolls its state (the forecaster of Shi et al.).

    ``unroll`` is the number of time steps per iteration of the compiled loop; 0 (the default)
    unrolls the whole sequence, because XLA:CPU runs convolutions inside a rolled loop far slower
    than in straight-line code (see ``train.scan_unroll``, docs/performance.md). Long sequences
    may want a small positive value to bound compile time.
    """

    features: int
    kernel_size: Sequence[int] = (5, 5)
    peephole: bool = True
    forget_bias: float = 1.0
    unroll: int = 0

    @nn.compact
    def __call__(self, xs: Array, carry: Carry | None = None) -> tuple[Carry, Array]:
        if carry is None:
            carry = ConvLSTMCell.zero_carry(xs.shape[0], xs.shape[2:4], self.features)
        scan = nn.scan(
            ConvLSTMCell,
            variable_broadcast="params",
            split_rngs={"params": False},
            in_axes=1,
            out_axes=1,
            unroll=self.unroll if self.unroll > 0 else max(xs.shape[1], 1),
        )
        cell = scan(
            self.features,
            tuple(self.kernel_size),
            self.peephole,
            self.forget_bias,
            name="cell",
        )
        return cell(carry, xs)
