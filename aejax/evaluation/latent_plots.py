"""2-D views of the latent space: PCA and t-SNE scatter plots coloured by label or a factor.

Both embeddings come from scikit-learn; the points are the posterior means ``E_q[z|x]``.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from aejax import paths


def embed_2d(codes: np.ndarray, method: str, *, seed: int) -> np.ndarray:
    """``[N, 2]`` embedding of ``codes [N, D]`` by ``"pca"`` or ``"tsne"``."""
    codes = np.asarray(codes, np.float64)
    if codes.shape[1] < 2:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(codes)
    if method == "tsne":
        perplexity = min(30.0, max(2.0, (len(codes) - 1) / 3.0))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed
        ).fit_transform(codes)
    raise ValueError(f"unknown embedding {method!r}; choose pca or tsne")


def scatter(
    points: np.ndarray, colour: np.ndarray, path: paths.PathLike, *, title: str, legend: str
) -> paths.Path:
    """Writes a scatter plot of ``points [N, 2]`` coloured by the integers ``colour [N]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    values = np.unique(colour)
    cmap = plt.get_cmap("tab10" if len(values) <= 10 else "viridis")
    sc = ax.scatter(points[:, 0], points[:, 1], c=colour, s=4, cmap=cmap, alpha=0.7)
    fig.colorbar(sc, ax=ax, label=legend)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    path = paths.resolve(path)
    paths.save_figure(fig, path, dpi=80)
    plt.close(fig)
    return path


def latent_scatter_plots(
    codes: np.ndarray,
    colour: np.ndarray,
    workdir: paths.PathLike,
    *,
    legend: str,
    seed: int,
    methods: tuple[str, ...] = ("pca", "tsne"),
) -> list[paths.Path]:
    """``latent_<method>.png`` for each method, in ``workdir``."""
    workdir = paths.resolve(workdir)
    written = []
    for m in methods:
        pts = embed_2d(codes, m, seed=seed)
        name = {"pca": "PCA", "tsne": "t-SNE"}[m]
        written.append(
            scatter(
                pts,
                colour,
                workdir / f"latent_{m}.png",
                title=f"{name} of E[z|x] ({len(codes)} test images)",
                legend=legend,
            )
        )
    return written
