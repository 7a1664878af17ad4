"""A run's config as it is trained and saved: old keys moved to their new place, and only the
groups the run uses.

Experiment files start from the whole schema (:func:`aejax.defaults.base_config`); before a run
starts, :func:`settle_config` moves every old key (:mod:`aejax.config_keys`) and drops the groups
the run does not read: other methods' groups (``factor_vae``, ``m2``, ...), the extra networks and
player optimizers its objective does not declare (``model.critic``, ``optimizer.critic``,
``model.classifier``) and ``graph`` unless the data is a graph. So ``config.json`` and the printed
config show what the run is.
"""

from __future__ import annotations

import ml_collections

from aejax import config_keys
from aejax.build.checks import choice
from aejax.build.graph import experiment_kind
from aejax.build.networks import EXTRA_NETWORKS
from aejax.build.objective import OBJECTIVES


def unused_groups(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """The dotted config groups ``config``'s run does not read."""
    spec = OBJECTIVES[choice(config.objective.name, tuple(OBJECTIVES), "objective.name")]
    groups = {s.group for s in OBJECTIVES.values()} - {"objective", spec.group}
    networks = set(spec.networks) | {p.name for p in spec.players}
    groups |= {f"model.{n}" for n in EXTRA_NETWORKS if n not in networks}
    used_optimizers = {p.optimizer for p in spec.players}
    groups |= {p.optimizer for s in OBJECTIVES.values() for p in s.players} - used_optimizers
    if experiment_kind(config) != "graph":
        groups.add("graph")
    return tuple(sorted(groups))


def settle_config(config: ml_collections.ConfigDict, *, quiet: bool = False) -> list[str]:
    """Moves old keys to their new place and deletes the unused groups, in place (idempotent).

    Returns the notes about old keys (printed on stderr unless ``quiet``).
    """
    notes = config_keys.translate(config, quiet=quiet)
    with config.unlocked():
        for group in unused_groups(config):
            parent, _, leaf = group.rpartition(".")
            holder = config[parent] if parent else config
            if leaf in holder:
                del holder[leaf]
    return notes
