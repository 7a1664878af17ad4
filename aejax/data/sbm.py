"""A generated graph with known block structure: a planted-partition stochastic block model.

For graph autoencoders beyond Planetoid's size (``data.name = "sbm:large"``: 100,000 nodes,
1,000,000 undirected edges) and for tests (``"sbm:small"``). Nodes fall into ``B`` equal blocks
at random; each edge picks a uniform node ``u`` and, with probability ``within``, a partner
uniform in ``u``'s block, else one uniform over all nodes; self-loops and repeats are dropped and
edges are drawn until exactly ``E`` distinct ones remain. With ``within = 0.8`` and 50 blocks a
node's edges stay in its block 80% of the time against 2% by chance, so links are predictable
from the blocks. Features ``[N, F]`` are the node's block centroid (standard normal) plus
standard normal noise of scale ``feature_noise``: correlated with the blocks, but no single
node's features name its block (with noise 2.0 and F = 32). Labels are the block ids, so node
clustering scores how well embeddings recover the blocks.

The graph is fixed by its preset (its own seed); a run's ``seed`` only changes its edge split and
initialisation, as for Planetoid.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aejax.data.planetoid import Graph
from aejax.errors import DataError


@dataclasses.dataclass(frozen=True)
class BlockModel:
    """The sizes of a generated graph (see the module docstring)."""

    num_nodes: int
    num_edges: int
    num_blocks: int
    within: float = 0.8
    feature_dim: int = 32
    feature_noise: float = 2.0
    seed: int = 0


PRESETS = {
    "small": BlockModel(num_nodes=2_000, num_edges=20_000, num_blocks=10),
    "large": BlockModel(num_nodes=100_000, num_edges=1_000_000, num_blocks=50),
}


def load_sbm(name: str, *, features: bool = True) -> Graph:
    """The generated graph of preset ``name`` (``"small"``, ``"large"``)."""
    if name not in PRESETS:
        raise DataError(
            f"sbm:{name}: no such generated graph; choose one of "
            f"{', '.join('sbm:' + p for p in PRESETS)}"
        )
    graph = block_model_graph(PRESETS[name], name=f"sbm-{name}")
    return graph if features else dataclasses.replace(graph, features=None)


def block_model_graph(spec: BlockModel, name: str = "sbm") -> Graph:
    """Draws the graph ``spec`` describes (numpy, from ``spec.seed``; seconds for 1M edges)."""
    n, e = spec.num_nodes, spec.num_edges
    if e > n * (n - 1) // 2 // 4:
        raise DataError(
            f"{name}: {e} edges is too dense for {n} nodes (at most a quarter of pairs)"
        )
    rng = np.random.default_rng(spec.seed)
    blocks = rng.permutation(n) % spec.num_blocks  # equal blocks, random members
    members = np.argsort(blocks, kind="stable")
    block_start = np.searchsorted(blocks[members], np.arange(spec.num_blocks))
    block_size = np.bincount(blocks, minlength=spec.num_blocks)
    codes = np.zeros(0, np.int64)
    while len(codes) < e:
        draw = int(1.2 * (e - len(codes))) + 16
        u = rng.integers(0, n, draw)
        b = blocks[u]
        in_block = members[block_start[b] + (rng.random(draw) * block_size[b]).astype(np.int64)]
        v = np.where(rng.random(draw) < spec.within, in_block, rng.integers(0, n, draw))
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        new = (lo * n + hi)[lo != hi]
        codes = np.unique(np.concatenate([codes, new]))
    codes = np.sort(rng.choice(codes, e, replace=False))
    edges = np.stack([codes // n, codes % n], 1).astype(np.int32)
    centroids = rng.standard_normal((spec.num_blocks, spec.feature_dim))
    noise = spec.feature_noise * rng.standard_normal((n, spec.feature_dim))
    return Graph(
        name=name,
        num_nodes=n,
        edges=edges,
        features=(centroids[blocks] + noise).astype(np.float32),
        labels=blocks.astype(np.int32),
        num_classes=spec.num_blocks,
        source=f"generated: {spec}",
    )
