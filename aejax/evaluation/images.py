"""Image grids of a trained model as PNG files (PIL; no display needed).

Every function writes one PNG and returns its path. Images are ``[N, H, W, C]`` floats in [0, 1]
(values outside are clipped) with ``C`` 1 (grey) or 3 (RGB). Tiles are upscaled by an integer
factor (nearest neighbour) so that small images stay legible; see :func:`grid_pixel_size`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aejax import paths
from aejax.evaluation.likelihood import model_fns
from aejax.types import PRNGKey

PAD = 2  # pixels between tiles and around the border
TITLE_HEIGHT = 12  # pixels of the caption band above each row of tiles, when titles are given
MIN_TILE = 64  # default upscaling makes tiles at least this many pixels on their longer side
_BACKGROUND = 255
_TEXT = 0


def default_scale(height: int, width: int) -> int:
    """The integer upscaling that brings the longer side of an image to >= ``MIN_TILE`` pixels."""
    return max(1, math.ceil(MIN_TILE / max(height, width)))


def _font():
    return ImageFont.load_default()


def _label_width(row_labels: Sequence[str] | None) -> int:
    if not row_labels:
        return 0
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    return int(math.ceil(max(draw.textlength(s, font=_font()) for s in row_labels))) + 2 * PAD


def grid_pixel_size(
    num: int,
    image_shape: Sequence[int],
    ncols: int,
    *,
    scale: int | None = None,
    titles: bool = False,
    label_width: int = 0,
) -> tuple[int, int]:
    """``(width, height)`` in pixels of the PNG :func:`save_grid` writes for ``num`` images."""
    h, w = int(image_shape[0]), int(image_shape[1])
    s = scale or default_scale(h, w)
    nrows = -(-num // ncols)
    band = TITLE_HEIGHT if titles else 0
    return (
        label_width + PAD + ncols * (w * s + PAD),
        PAD + nrows * (band + h * s + PAD),
    )


def save_grid(
    images,
    path: paths.PathLike,
    ncols: int,
    titles: Sequence[str] | None = None,
    *,
    row_labels: Sequence[str] | None = None,
    scale: int | None = None,
) -> paths.Path:
    """Writes ``images [N, H, W, C]`` in rows of ``ncols`` tiles to the PNG ``path``.

    Args:
      titles: optional caption per image (drawn in a band above its tile).
      row_labels: optional label per row, drawn in a left margin.
      scale: integer upscaling of each tile (default :func:`default_scale`).

    Returns:
      ``path``; the image is ``grid_pixel_size(...)`` pixels.
    """
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images [N, H, W, 1 or 3], got shape {images.shape}")
    if ncols < 1 or len(images) == 0:
        raise ValueError(f"need ncols >= 1 and at least one image, got {ncols}, {len(images)}")
    n, h, w, c = images.shape
    nrows = -(-n // ncols)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images")
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"got {len(row_labels)} row labels for {nrows} rows")
    s = scale or default_scale(h, w)
    label_width = _label_width(row_labels)
    size = grid_pixel_size(
        n, (h, w), ncols, scale=s, titles=titles is not None, label_width=label_width
    )
    mode = "L" if c == 1 else "RGB"
    canvas = Image.new(mode, size, _BACKGROUND if c == 1 else (_BACKGROUND,) * 3)
    draw = ImageDraw.Draw(canvas)
    band = TITLE_HEIGHT if titles is not None else 0
    pixels = np.round(images * 255).astype(np.uint8)
    text = _TEXT if c == 1 else (_TEXT,) * 3
    for i in range(n):
        row, col = divmod(i, ncols)
        x0 = label_width + PAD + col * (w * s + PAD)
        y0 = PAD + row * (band + h * s + PAD)
        tile = pixels[i, :, :, 0] if c == 1 else pixels[i]
        tile = Image.fromarray(tile, mode).resize((w * s, h * s), Image.NEAREST)
        canvas.paste(tile, (x0, y0 + band))
        if titles is not None:
            draw.text((x0, y0), str(titles[i]), fill=text, font=_font())
    for row, label in enumerate(row_labels or ()):
        y = PAD + row * (band + h * s + PAD) + band + (h * s) // 2
        draw.text((PAD, y), str(label), fill=text, font=_font(), anchor="lm")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    path = paths.resolve(path)
    paths.write_bytes(path, buffer.getvalue())
    return path


def reconstruction_grid(
    model, variables, images, path: paths.PathLike, *, ncols: int = 8
) -> paths.Path:
    """Rows alternate ``ncols`` inputs and their reconstructions ``E[p(x | z = E_q[z|x])]``.

    ``images: [N, H, W, C]`` as the model sees them; ``N`` is cut to a multiple of ``ncols``
    (or ``ncols`` to ``N`` when ``N < ncols``).
    """
    images = np.asarray(images, np.float32)
    ncols = min(ncols, len(images))
    images = images[: len(images) // ncols * ncols]
    encode, decode, _ = model_fns(model, variables)
    recon = np.asarray(decode(encode(jnp.asarray(images)).mean()).mean())
    groups = len(images) // ncols
    rows = []
    for g in range(groups):
        rows += [images[g * ncols : (g + 1) * ncols], recon[g * ncols : (g + 1) * ncols]]
    return save_grid(np.concatenate(rows), path, ncols, row_labels=["input", "recon"] * groups)


def prior_samples_grid(
    model, variables, key: PRNGKey, path: paths.PathLike, *, num: int = 64, ncols: int = 8
) -> paths.Path:
    """Decoder means ``E[p(x|z)]`` at ``num`` draws ``z ~ p(z)`` from ``key``."""
    _, decode, _ = model_fns(model, variables)
    # sample_codes: ancestral sampling through every stochastic layer of a hierarchical model.
    z = model.apply(variables, key, num, method=lambda m, k, n: m.sample_codes(k, n))
    return save_grid(np.asarray(decode(z).mean()), path, ncols)


def latent_traversals(
    model,
    variables,
    image,
    path: paths.PathLike,
    *,
    dim_scores: Sequence[float] | None = None,
    num_values: int = 9,
    span: float = 3.0,
    max_dims: int | None = None,
) -> paths.Path:
    """One row per latent dim: decoder means as that dim moves from ``-span`` to ``+span``.

    Column ``j`` adds ``linspace(-span, span, num_values)[j]`` (prior standard deviations for
    N(0, I)) to dim ``d`` of the posterior mean of ``image [H, W, C]``; the other dims stay at
    the mean. Rows are ordered by decreasing ``dim_scores`` (e.g. mean KL per dim, whose value
    labels the row) and cut to ``max_dims``; without scores, in index order.
    """
    encode, decode, _ = model_fns(model, variables)
    loc = np.asarray(encode(jnp.asarray(image, jnp.float32)[None]).mean())[0]
    dims = np.arange(loc.shape[0])
    if dim_scores is not None:
        dims = np.argsort(-np.asarray(dim_scores, np.float64), kind="stable")
    dims = dims[:max_dims]
    values = np.linspace(-span, span, num_values, dtype=np.float32)
    z = np.tile(loc, (len(dims), num_values, 1))
    z[np.arange(len(dims)), :, dims] += values
    out = np.asarray(decode(jnp.asarray(z.reshape(-1, loc.shape[0]))).mean())
    labels = [
        f"z{d}" + ("" if dim_scores is None else f" ({float(dim_scores[d]):.2f})") for d in dims
    ]
    return save_grid(out, path, num_values, row_labels=labels)


def interpolation_grid(
    model, variables, pairs, path: paths.PathLike, *, num_steps: int = 10
) -> paths.Path:
    """One row per pair of images: decoder means along the straight line between their
    posterior means, ``z = (1 - t) mu_a + t mu_b`` for ``num_steps`` values of t in [0, 1],
    framed by the two inputs.

    ``pairs: [P, 2, H, W, C]``.
    """
    pairs = np.asarray(pairs, np.float32)
    encode, decode, _ = model_fns(model, variables)
    p = pairs.shape[0]
    mu = np.asarray(encode(jnp.asarray(pairs.reshape((2 * p, *pairs.shape[2:])))).mean())
    mu = mu.reshape((p, 2, -1))
    t = np.linspace(0.0, 1.0, num_steps, dtype=np.float32)[None, :, None]
    z = (1.0 - t) * mu[:, :1] + t * mu[:, 1:]
    out = np.asarray(decode(jnp.asarray(z.reshape((p * num_steps, -1)))).mean())
    out = out.reshape((p, num_steps, *pairs.shape[2:]))
    rows = np.concatenate([pairs[:, :1], out, pairs[:, 1:]], axis=1)
    return save_grid(rows.reshape((-1, *pairs.shape[2:])), path, num_steps + 2)
