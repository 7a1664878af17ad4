"""The update direction ``config.optimizer`` describes (the step applies the learning rate)."""

from __future__ import annotations

import jax
import ml_collections
import optax

from aejax.build.checks import choice, get, positive
from aejax.errors import ConfigError
from aejax.types import Player

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "linear", "stages")


def build_schedule(
    config: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int | None = None
) -> optax.Schedule | None:
    """Multiplier of the learning rate over steps (peak 1), or None for a constant rate.

    ``"stages"`` is piecewise constant over epochs: stage ``i`` (from 0) lasts
    ``stage_epochs * stage_growth**i`` epochs at ``stage_decay**i``; the last stage lasts to the
    end. Burda et al. (2016): stage_epochs 1, growth 3, decay 10**(-1/7), 8 stages (3,280 epochs).
    """
    o = config.optimizer
    kind = choice(o.schedule, SCHEDULES, "optimizer.schedule")
    warmup = int(positive(o.warmup_steps, "optimizer.warmup_steps", allow_zero=True))
    if kind == "stages":
        return _stages(o, num_steps, steps_per_epoch)
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


def _stages(o: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int | None):
    if not steps_per_epoch:
        raise ConfigError("optimizer.schedule='stages' counts epochs: it needs a minibatch run")
    if o.warmup_steps:
        raise ConfigError(
            f"optimizer.warmup_steps={o.warmup_steps} has no effect with schedule='stages'; set 0"
        )
    first = positive(o.stage_epochs, "optimizer.stage_epochs")
    growth = positive(o.stage_growth, "optimizer.stage_growth")
    decay = positive(o.stage_decay, "optimizer.stage_decay")
    boundaries, epochs = {}, 0.0
    for i in range(1, 64):
        epochs += first * growth ** (i - 1)
        step = int(round(epochs * steps_per_epoch))
        if step >= num_steps:
            break
        boundaries[step] = decay  # piecewise_constant multiplies the factors up to a step
    return optax.piecewise_constant_schedule(1.0, boundaries)


def build_direction(
    config: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int | None = None
) -> optax.GradientTransformation:
    """The optimizer without its learning rate: the step scales this by ``-learning_rate``.
    ``steps_per_epoch``: for schedules counted in epochs (``"stages"``)."""
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
    schedule = build_schedule(config, num_steps, steps_per_epoch)
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
