"""Robustness: reconstruction error and probe accuracy on corrupted test images.

The corruptions are JAX functions of ``images [N, H, W, C]`` in [0, 1] that run on the default
device: additive Gaussian noise of standard deviation ``sigma`` (pixel units, clipped to [0, 1]),
rotation by ``angle`` degrees and scaling by ``factor`` about the image centre (bilinear
resampling, zeros outside). A value of 0 noise, 0 degrees or factor 1 is the clean image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aejax import paths
from aejax.types import Array


@jax.jit
def gaussian_noise(images: Array, sigma: float, key: jax.Array) -> Array:
    """``clip(x + sigma * eps, 0, 1)`` with ``eps ~ N(0, I)`` drawn from ``key``."""
    return jnp.clip(images + sigma * jax.random.normal(key, images.shape, images.dtype), 0.0, 1.0)


def _warp(images: Array, inverse: Array) -> Array:
    """Output pixel p samples the input at ``c + inverse @ (p - c)`` (c the centre), bilinearly."""
    _, h, w, _ = images.shape
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32), jnp.arange(w, dtype=jnp.float32))
    centre = jnp.array([(h - 1) / 2.0, (w - 1) / 2.0], jnp.float32)
    p = jnp.stack([rows.T.ravel(), cols.T.ravel()]) - centre[:, None]  # [2, H*W]
    src = inverse @ p + centre[:, None]

    def one_channel(img):
        return jax.scipy.ndimage.map_coordinates(img, [src[0], src[1]], order=1, mode="constant")

    per_image = jax.vmap(one_channel, in_axes=-1, out_axes=-1)  # over channels
    return jax.vmap(per_image)(images).reshape(images.shape)


@jax.jit
def rotate(images: Array, angle: float) -> Array:
    """Rotates ``images [N, H, W, C]`` by ``angle`` degrees (counter-clockwise on screen)."""
    t = jnp.deg2rad(angle)
    # (row, col) coordinates: row grows downwards, so a counter-clockwise turn on screen is
    # this matrix's inverse applied to output coordinates.
    inverse = jnp.array([[jnp.cos(t), jnp.sin(t)], [-jnp.sin(t), jnp.cos(t)]])
    return _warp(images, inverse)


@jax.jit
def scale(images: Array, factor: float) -> Array:
    """Zooms ``images [N, H, W, C]`` by ``factor`` about the centre (> 1 enlarges)."""
    return _warp(images, jnp.eye(2) / factor)


TRANSFORMS: dict[str, tuple[str, float]] = {
    # name -> (what the value means, the clean value)
    "noise": ("Gaussian noise sigma", 0.0),
    "rotation": ("rotation angle (degrees)", 0.0),
    "scale": ("scale factor", 1.0),
}
DEFAULT_VALUES: dict[str, tuple[float, ...]] = {
    "noise": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
    "rotation": (0.0, 15.0, 30.0, 45.0, 60.0, 90.0),
    "scale": (0.6, 0.8, 0.9, 1.0, 1.1, 1.25),
}


def apply(name: str, images: Array, value: float, key: jax.Array) -> Array:
    """Applies corruption ``name`` (a key of :data:`TRANSFORMS`) of strength ``value``."""
    if name == "noise":
        return gaussian_noise(images, value, key)
    if name == "rotation":
        return rotate(images, value)
    if name == "scale":
        return scale(images, value)
    raise ValueError(f"unknown corruption {name!r}; choose one of {', '.join(TRANSFORMS)}")


def num_points(values: dict[str, Sequence[float]] = DEFAULT_VALUES) -> int:
    """How many measurements :func:`robustness_curves` makes (one clean one per corruption)."""
    return sum(len(v) + 1 for v in values.values())


def robustness_curves(
    images: np.ndarray,
    labels: np.ndarray | None,
    encode_mean: Callable[[Array], Array],
    reconstruct: Callable[[Array], Array],
    probe,
    key: jax.Array,
    *,
    values: dict[str, Sequence[float]] = DEFAULT_VALUES,
    batch_size: int = 1000,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Per corruption: ``{"values", "recon_mse", "probe_accuracy", "clean_recon_mse",
    "clean_probe_accuracy"}``.

    ``recon_mse`` compares the reconstruction of the corrupted image with the *clean* image
    (mean over pixels and examples). ``probe`` is a fitted classifier on ``encode_mean`` codes
    (``score(codes, labels)``), or ``None`` when there are no labels. ``on_done(label)`` is
    called after each of the :func:`num_points` measurements (a progress bar).
    """
    images = np.asarray(images, np.float32)

    def measure(name, value, k):
        codes, mse = [], 0.0
        for i in range(0, len(images), batch_size):
            clean = jnp.asarray(images[i : i + batch_size])
            x = apply(name, clean, value, jax.random.fold_in(k, i))
            codes.append(np.asarray(encode_mean(x)))
            mse += float(jnp.sum(jnp.mean((reconstruct(x) - clean) ** 2, axis=(1, 2, 3))))
        acc = None
        if probe is not None and labels is not None:
            acc = float(probe.score(np.concatenate(codes).astype(np.float64), labels))
        if on_done is not None:
            on_done(f"{name} {value:g}")
        return mse / len(images), acc

    out = {}
    for t, name in enumerate(values):
        _, clean_value = TRANSFORMS[name]
        k = jax.random.fold_in(key, t)
        clean_mse, clean_acc = measure("noise", 0.0, k)
        mses, accs = [], []
        for v in values[name]:
            mse, acc = measure(name, float(v), k)
            mses.append(mse)
            accs.append(acc)
        out[name] = {
            "values": [float(v) for v in values[name]],
            "recon_mse": mses,
            "probe_accuracy": accs,
            "clean_recon_mse": clean_mse,
            "clean_probe_accuracy": clean_acc,
            "clean_value": clean_value,
        }
    return out


def plot_curves(curves: dict[str, dict], path) -> None:
    """One panel per corruption: reconstruction MSE and probe accuracy, clean values dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(curves)
    fig, axes = plt.subplots(2, len(names), figsize=(4 * len(names), 6), squeeze=False)
    for j, name in enumerate(names):
        c = curves[name]
        for i, (metric, label) in enumerate(
            (("recon_mse", "reconstruction MSE"), ("probe_accuracy", "probe accuracy"))
        ):
            ax = axes[i, j]
            ys = c[metric]
            if any(y is None for y in ys):
                ax.set_axis_off()
                continue
            ax.plot(c["values"], ys, "o-", label="corrupted")
            ax.axhline(c[f"clean_{metric}"], color="grey", ls="--", label="clean")
            ax.set_xlabel(TRANSFORMS[name][0])
            ax.set_ylabel(label)
            ax.legend(fontsize=8)
    fig.tight_layout()
    paths.save_figure(fig, path, dpi=80)
    plt.close(fig)
