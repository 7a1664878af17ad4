"""Python names that moved in the redesign, and a module ``__getattr__`` that says where to.

``from aejax.build import labelled_pool`` raises ``MovedNameError: aejax.build.labelled_pool
moved: use aejax.train.run.stream_pools(experiment, dataset)["labelled"] ...``: one line naming
the replacement, instead of a bare "cannot import name". It is an ``ImportError``: Python turns an
``AttributeError`` raised under ``from ... import`` into its own message, losing this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# module -> {old name: replacement (its dotted path first, then how to call it)}
MOVED: dict[str, dict[str, str]] = {
    "aejax.build": {
        "labelled_pool": "aejax.train.run.stream_pools(experiment, dataset)['labelled'] (the "
        "pools of every batch stream an objective declares)",
        "build_critic_direction": "aejax.build.build_player_direction(config, player) (the "
        "optimizer of any extra player an objective declares)",
        "NETWORKS": "aejax.nn.NETWORKS",
        "SEQUENCE_NETWORK": "aejax.nn.SEQUENCE_NETWORK",
        "UPSAMPLES": "aejax.nn.layers.UPSAMPLES",
        "GAUSSIAN_SIGMAS": "aejax.models.heads.GAUSSIAN_SIGMAS",
    },
    "aejax.train.loop": {
        "init_state": "aejax.train.run.init_state(experiment, image_shape, init_key)",
        "device_data": "aejax.train.run.device_data(dataset, pools, mesh)",
    },
}


class MovedNameError(ImportError):
    """A name that moved; the message says to where."""


def getattr_for(module: str) -> Callable[[str], object]:
    """A module-level ``__getattr__`` for ``module`` that names the replacement of a moved
    name (and raises the usual error for any other)."""
    table: Mapping[str, str] = MOVED.get(module, {})

    def __getattr__(name: str):
        if name in table:
            raise MovedNameError(f"{module}.{name} moved: use {table[name]}")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
