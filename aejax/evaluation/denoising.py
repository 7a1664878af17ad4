"""Does an autoencoder copy its input or map it towards the data? Reconstruction of corrupted
inputs compared with the clean ones.

An overcomplete autoencoder that learned the identity reproduces the noise: its reconstruction of
``x + noise`` is as far from ``x`` as the corrupted input is. A denoising or contractive one maps
the corrupted input back towards the clean image, so the ratio
``MSE(recon(x_tilde), x) / MSE(x_tilde, x)`` falls below 1.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from aejax.types import PRNGKey


def corrupt(key: PRNGKey, x: jnp.ndarray, kind: str, level: float) -> jnp.ndarray:
    """``x [B, H, W, C]`` in [0, 1] corrupted by ``"gaussian"`` noise of std ``level`` (clipped
    to [0, 1]) or by ``"masking"`` a fraction ``level`` of pixels to 0."""
    if kind == "gaussian":
        return jnp.clip(x + level * jax.random.normal(key, x.shape, x.dtype), 0.0, 1.0)
    if kind == "masking":
        return jnp.where(jax.random.uniform(key, x.shape) < level, 0.0, x)
    raise ValueError(f"corruption kind must be 'gaussian' or 'masking', got {kind!r}")


def denoising_ratio(
    model, variables, images: np.ndarray, key: PRNGKey, *, kind: str, level: float
) -> dict[str, float]:
    """``{"mse_corrupted", "mse_reconstructed", "ratio"}`` over ``images`` (per-pixel means);
    the reconstruction is the likelihood mean at the posterior mode of the corrupted input."""

    def reconstruct(m, x):
        return m.decode(m.encode(x).mode()).mean()

    fn = jax.jit(
        lambda v, x, k: (lambda xt: (xt, model.apply(v, xt, method=reconstruct)))(
            corrupt(k, x, kind, level)
        )
    )
    err_in, err_out, n = 0.0, 0.0, 0
    for i in range(0, len(images), 1000):
        x = jnp.asarray(images[i : i + 1000])
        noisy, recon = fn(variables, x, jax.random.fold_in(key, i))
        err_in += float(jnp.sum((noisy - x) ** 2))
        err_out += float(jnp.sum((recon - x) ** 2))
        n += x.size
    return {
        "mse_corrupted": err_in / n,
        "mse_reconstructed": err_out / n,
        "ratio": err_out / err_in,
    }
