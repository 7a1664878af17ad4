"""Image grids: file written, pixel size as documented, traversal layout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from aejax import build, defaults
from aejax.evaluation import images as im

SHAPE = (4, 4, 1)
LATENT = 3


@pytest.fixture(scope="module")
def vae():
    c = defaults.base_config()
    c.model.latent_dim = LATENT
    c.model.encoder.hidden = (16,)
    c.model.decoder.hidden = (16,)
    model = build.build_model(c, SHAPE)
    return model, model.init(jax.random.key(0), jnp.zeros((1, *SHAPE)))


def _read(path):
    return np.asarray(Image.open(path))


def test_save_grid_pixel_size(tmp_path):
    x = np.random.RandomState(0).rand(10, *SHAPE).astype(np.float32)
    path = im.save_grid(x, tmp_path / "g.png", ncols=4)
    # 4x4 tiles upscale x16 to 64 px; 2 px padding; 3 rows of 4.
    assert _read(path).shape == (2 + 3 * 66, 2 + 4 * 66)
    assert (266, 200) == im.grid_pixel_size(10, SHAPE, 4)

    titled = im.save_grid(x, tmp_path / "t.png", 5, titles=[str(i) for i in range(10)], scale=2)
    assert _read(titled).shape == (2 + 2 * (im.TITLE_HEIGHT + 8 + 2), 2 + 5 * 10)

    rgb = np.random.RandomState(1).rand(3, 5, 7, 3)
    out = _read(im.save_grid(rgb, tmp_path / "rgb.png", 3, scale=1))
    assert out.shape == (2 + 7, 2 + 3 * 9, 3)
    np.testing.assert_array_equal(out[2:7, 2:9], np.round(rgb[0] * 255).astype(np.uint8))
    with pytest.raises(ValueError):
        im.save_grid(np.zeros((2, 4, 4, 2)), tmp_path / "bad.png", 2)


def test_model_grids(vae, tmp_path):
    model, variables = vae
    x = (np.random.RandomState(0).rand(32, *SHAPE) > 0.5).astype(np.float32)
    path = im.reconstruction_grid(model, variables, x, tmp_path / "rec.png", ncols=8)
    out = _read(path)
    assert out.shape[0] == 2 + 8 * 66  # 4 input rows interleaved with 4 reconstruction rows
    # the first row shows the inputs themselves (after the row-label margin)
    left = out.shape[1] - 8 * 66
    np.testing.assert_array_equal(out[2:66, left : left + 64][::16, ::16], x[0, :, :, 0] * 255)

    path = im.prior_samples_grid(
        model, variables, jax.random.key(1), tmp_path / "p.png", num=12, ncols=4
    )
    assert _read(path).shape == (2 + 3 * 66, 2 + 4 * 66)


def test_latent_traversals_rows_follow_scores(vae, tmp_path):
    model, variables = vae
    x = np.random.RandomState(0).rand(*SHAPE).astype(np.float32)
    scores = [0.1, 2.0, 0.5]
    path = im.latent_traversals(
        model, variables, x, tmp_path / "t.png", dim_scores=scores, num_values=5, span=3.0
    )
    out = _read(path).astype(int)
    assert out.shape[0] == 2 + LATENT * 66
    left = out.shape[1] - 5 * 66
    tiles = [
        [out[2 + r * 66 : 66 + r * 66, left + c * 66 : left + c * 66 + 64] for c in range(5)]
        for r in range(LATENT)
    ]
    # The middle column is the reconstruction at the posterior mean in every row.
    for r in range(1, LATENT):
        np.testing.assert_array_equal(tiles[r][2], tiles[0][2])

    # Row order: dims by decreasing score (1, 2, 0); compare with a direct decode.
    from aejax.evaluation.likelihood import model_fns

    encode, decode, _ = model_fns(model, variables)
    loc = np.asarray(encode(jnp.asarray(x)[None]).mean())[0]
    z = loc.copy()
    z[1] += 3.0
    expected = np.round(
        np.clip(np.asarray(decode(jnp.asarray(z)[None]).mean())[0, :, :, 0], 0, 1) * 255
    )
    np.testing.assert_allclose(tiles[0][4][::16, ::16], expected, atol=1)

    capped = im.latent_traversals(model, variables, x, tmp_path / "c.png", max_dims=2)
    assert _read(capped).shape[0] == 2 + 2 * 66
