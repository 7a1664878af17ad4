"""The update direction ``config.optimizer`` describes (the step applies the learning rate)."""

from __future__ import annotations

import jax
import ml_collections
import optax

from aejax.build.checks import choice, get, positive
from aejax.types import Player

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "linear")


def build_schedule(config: ml_collections.ConfigDict, num_steps: int) -> optax.Schedule | None:
    """Multiplier of the learning rate over steps (peak 1), or None for a constant rate."""
    o = config.optimizer
    kind = choice(o.schedule, SCHEDULES, "optimizer.schedule")
    warmup = int(positive(o.warmup_steps, "optimizer.warmup_steps", allow_zero=True))
    if kind == "constant" and not warmup:
        return None
    if kind == "cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, 1.0, warmup, max(num_steps, warmup + 1), end_value=o.final_fraction
        )
    decay = (
        optax.constant_schedule(1.0)
        if kind == "constant"
        else optax.linear_schedule(1.0, o.final_fraction, max(num_steps - warmup, 1))
    )
    return optax.join_schedules([optax.linear_schedule(0.0, 1.0, warmup), decay], [warmup])


def build_direction(
    config: ml_collections.ConfigDict, num_steps: int
) -> optax.GradientTransformation:
    """The optimizer without its learning rate: the step scales this by ``-learning_rate``."""
    o = config.optimizer
    name = choice(o.name, OPTIMIZERS, "optimizer.name")
    positive(o.learning_rate, "optimizer.learning_rate")
    positive(o.clip_norm, "optimizer.clip_norm", allow_zero=True)
    parts = []
    if o.clip_norm:
        parts.append(optax.clip_by_global_norm(o.clip_norm))
    if name in ("adam", "adamw"):
        parts.append(optax.scale_by_adam(b1=o.b1, b2=o.b2, eps=o.eps))
        if name == "adamw":
            parts.append(optax.add_decayed_weights(o.weight_decay))
    elif name == "sgd":
        if o.momentum:
            parts.append(optax.trace(decay=o.momentum))
    else:
        parts.append(optax.scale_by_rms(decay=o.b2, eps=o.eps))
        if o.momentum:
            parts.append(optax.trace(decay=o.momentum))
    schedule = build_schedule(config, num_steps)
    if schedule is not None:
        parts.append(optax.scale_by_schedule(schedule))
    return optax.chain(*parts) if parts else optax.identity()


def build_player_direction(
    config: ml_collections.ConfigDict, player: Player
) -> optax.GradientTransformation:
    """An extra player's own optimizer without its learning rate: Adam with the ``b1`` and
    ``b2`` of its config group (``player.optimizer``)."""
    group = get(config, player.optimizer)
    positive(group.learning_rate, f"{player.optimizer}.learning_rate")
    return optax.scale_by_adam(b1=group.b1, b2=group.b2)


def per_player(
    main: optax.GradientTransformation, players: dict[str, optax.GradientTransformation]
):
    """``players[name]`` for the params subtree of each extra player, ``main`` for the rest."""

    def labels(params):
        return {
            k: jax.tree_util.tree_map(lambda _, g=k if k in players else "main": g, v)
            for k, v in params.items()
        }

    return optax.multi_transform({"main": main, **players}, labels)
