"""Config -> objects for graph experiments, the experiment kind ``"graph"``.

A graph experiment is selected by ``data.name = "planetoid:NAME"`` or a generated graph,
``"sbm:PRESET"`` (:mod:`aejax.data.sbm`; :func:`experiment_kind`).
It reuses the image experiments' keys where they mean the same thing (``model.posterior``,
``model.latent_dim``, ``objective.name``/``beta``, ``optimizer.*``, ``train.num_steps``,
``seed``) and adds ``config.graph.*``. GAE is ``posterior="delta"`` +
``objective="reconstruction"``; VGAE is ``posterior="gaussian"`` + ``objective="elbo"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import ml_collections
import optax

from aejax import config_keys
from aejax.build.checks import choice, positive
from aejax.build.optimizer import build_direction
from aejax.data.planetoid import Graph, load_planetoid
from aejax.data.sbm import load_sbm
from aejax.errors import ConfigError
from aejax.models.graph import GraphAutoEncoder
from aejax.objectives import graph as objectives

PREFIX = "planetoid:"
GENERATED_PREFIX = "sbm:"
OBJECTIVES = {"elbo": objectives.negative_elbo, "reconstruction": objectives.reconstruction}
# The objective each posterior needs (a Delta posterior has no KL).
POSTERIOR_OBJECTIVE = {"gaussian": "elbo", "delta": "reconstruction"}
# Above this many nodes the dense N x N objective is refused (PubMed: 19,717 nodes, 1.4 GiB).
MAX_DENSE_NODES = 10_000


@dataclasses.dataclass(frozen=True)
class GraphExperiment:
    """What a graph config describes, as objects."""

    model: GraphAutoEncoder
    objective: Callable
    tx: optax.GradientTransformation
    hparams: Mapping[str, float]
    num_steps: int
    log_every: int
    seed: int
    num_runs: int
    val_fraction: float
    test_fraction: float
    cluster: bool
    negatives: int = 0  # drawn non-edges per target one (0: the dense N^2 loss)


KINDS = ("images", "sequences", "graph")


def experiment_kind(config: ml_collections.ConfigDict) -> str:
    """``"graph"`` for a graph experiment (``data.name = "planetoid:NAME"`` or ``"sbm:PRESET"``:
    full-batch training of GAE/VGAE, several seeds), ``"sequences"`` for examples that are
    sequences ``[T, H, W, C]`` (``moving_sprites``), else ``"images"``; the last two train in
    minibatches alike and differ in how they are evaluated."""
    from aejax.data import registry

    name = str(config.data.name)
    if name.startswith((PREFIX, GENERATED_PREFIX)):
        return "graph"
    options = config.data.get(registry.source_kind(name), {})
    return "sequences" if registry.yields_sequences(name, options) else "images"


def is_graph_config(config: ml_collections.ConfigDict) -> bool:
    """Whether ``config`` describes a graph experiment (:func:`experiment_kind` is ``"graph"``)."""
    return experiment_kind(config) == "graph"


def load_graph(config: ml_collections.ConfigDict) -> Graph:
    """The graph ``data.name`` names: Planetoid's from ``data.dir`` or the data search path, or
    a generated one."""
    generated = config.data.name.startswith(GENERATED_PREFIX)
    name = config.data.name[len(GENERATED_PREFIX if generated else PREFIX) :]
    if not name:
        raise ConfigError(
            f"data.name={config.data.name!r}: give a dataset, e.g. planetoid:cora or sbm:large"
        )
    if not isinstance(config.graph.features, bool):
        raise ConfigError(f"graph.features must be True or False, got {config.graph.features!r}")
    if generated:
        return load_sbm(name, features=config.graph.features)
    return load_planetoid(name, config.data.dir, features=config.graph.features)


def build_graph_experiment(config: ml_collections.ConfigDict, graph: Graph) -> GraphExperiment:
    """Model, objective, optimizer direction and hparams for training on ``graph``."""
    config = config_keys.translated(config)
    if not isinstance(config.seed, int) or config.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {config.seed!r}")
    g = config.graph
    posterior = choice(config.model.posterior, tuple(POSTERIOR_OBJECTIVE), "model.posterior")
    name = choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    if name != POSTERIOR_OBJECTIVE[posterior]:
        raise ConfigError(
            f"objective.name={name!r} does not fit model.posterior={posterior!r}; use "
            f"objective.name={POSTERIOR_OBJECTIVE[posterior]!r} (GAE: delta + reconstruction, "
            "VGAE: gaussian + elbo)"
        )
    negatives = int(positive(g.negatives, "graph.negatives", allow_zero=True))
    if not negatives and graph.num_nodes > MAX_DENSE_NODES:
        raise ConfigError(
            f"graph.negatives=0 scores all {graph.num_nodes}^2 node pairs every step (N x N "
            f"logits, over {graph.num_nodes**2 * 4 / 2**30:.1f} GiB); set graph.negatives=1 "
            "(or more) for an unbiased sampled estimate of the same loss"
        )
    for key in ("val_fraction", "test_fraction"):
        positive(g[key], f"graph.{key}", allow_zero=True)
    if g.val_fraction + g.test_fraction >= 1:
        raise ConfigError(
            f"graph.val_fraction + graph.test_fraction must be < 1, got "
            f"{g.val_fraction} + {g.test_fraction}"
        )
    t = config.train
    if bool(t.num_steps) == bool(t.num_epochs):
        raise ConfigError(
            "give exactly one of train.num_steps and train.num_epochs (full batch: one step per "
            f"epoch); got num_steps={t.num_steps}, num_epochs={t.num_epochs}"
        )
    num_steps = int(positive(t.num_steps or t.num_epochs, "train.num_steps"))
    hparams = {"learning_rate": float(config.optimizer.learning_rate)}
    if name == "elbo":
        hparams["beta"] = float(positive(config.elbo.beta, "elbo.beta", allow_zero=True))
    model = GraphAutoEncoder(
        hidden=int(positive(g.hidden, "graph.hidden")),
        latent_dim=int(positive(config.model.latent_dim, "model.latent_dim")),
        variational=posterior == "gaussian",
        num_nodes=graph.num_nodes,
    )
    return GraphExperiment(
        model=model,
        objective=objectives.with_negatives(OBJECTIVES[name], negatives),
        tx=build_direction(config, num_steps),
        hparams=hparams,
        num_steps=num_steps,
        log_every=int(positive(t.log_every, "train.log_every")),
        seed=int(config.seed),
        num_runs=int(positive(g.num_runs, "graph.num_runs")),
        val_fraction=float(g.val_fraction),
        test_fraction=float(g.test_fraction),
        cluster=bool(g.cluster),
        negatives=negatives,
    )
