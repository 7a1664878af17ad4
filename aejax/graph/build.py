"""Moved: graph configs are built by :mod:`aejax.build.graph` (the experiment kind ``"graph"``).

Kept so that ``from aejax.graph.build import ...`` (``scripts/evaluate.py``) goes on working.
"""

from aejax.build.graph import (
    GraphExperiment,
    build_graph_experiment,
    experiment_kind,
    is_graph_config,
    load_graph,
)

__all__ = [
    "GraphExperiment",
    "build_graph_experiment",
    "experiment_kind",
    "is_graph_config",
    "load_graph",
]
