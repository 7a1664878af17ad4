"""The pure train step ``step(state, batch, key, hparams) -> (state, metrics)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from aejax.train.rng import step_key
from aejax.train.state import TrainState
from aejax.types import Array, Batch, HParams, LossTerms, Player, PRNGKey

StepFn = Callable[[TrainState, Batch, PRNGKey, HParams], tuple[TrainState, dict[str, Array]]]
MAIN_LR = "learning_rate"  # hparams key of the main player's learning rate


def make_train_step(
    model: nn.Module,
    objective: Callable,
    tx: optax.GradientTransformation,
    *,
    players: Sequence[Player] = (),
    keep_state_on_nonfinite: bool = True,
) -> StepFn:
    """Builds the train step for ``model`` trained on ``objective`` with direction ``tx``.

    ``tx`` gives the update direction only; the step multiplies each player's part of it by
    minus that player's learning rate (``hparams["learning_rate"]`` for the main player, the
    ``lr_key`` of each of ``players`` for theirs), so learning rates are arrays ``vmap`` can batch.

    Extra players: each of ``players`` owns the ``params`` subtree of its name and is trained by
    its own loss (the objective's ``aux_loss``), while the objective's ``loss`` trains every other
    parameter; one forward pass, one VJP per player. ``tx`` must give each player's subtree its
    own optimizer (see :func:`aejax.build.build_experiment`).

    The step derives its key as ``fold_in(key, state.step)`` (pass the run's training key every
    time). ``metrics["finite"]`` is False when a loss or the gradient norm is not finite. With
    ``keep_state_on_nonfinite`` the parameters, model state and optimizer state are then left
    unchanged (the step counter still advances), for callers that skip bad steps and go on (a
    vmapped sweep, ``train.on_nonfinite=skip``). Without it the update is applied regardless and
    a caller that sees ``finite`` False must discard the returned state (``train.on_nonfinite=
    stop`` does, and stops): the guard is a select over the whole state that waits for the
    gradient norm (its cost: docs/performance.md).

    Metrics are batch means of the objective's terms plus ``loss``, ``aux_loss`` (one extra
    player) or ``aux_loss_<name>`` (several), ``grad_norm`` and ``finite``. Norms of the
    parameters are a property of the state, not of a step: the train loop logs them
    (:func:`param_norm`) when it writes metrics.
    """
    names = tuple(p.name for p in players)
    lr_keys = {p.name: p.lr_key for p in players}

    def step(state: TrainState, batch: Batch, key: PRNGKey, hparams: HParams):
        latent_key, dropout_key = jax.random.split(step_key(key, state.step))
        mutable = list(state.model_state.keys()) or False

        def loss_fn(params):
            variables = {"params": params, **state.model_state}
            out = model.apply(
                variables,
                batch,
                latent_key,
                hparams,
                step=state.step,
                train=True,
                method=objective,
                rngs={"dropout": dropout_key},
                mutable=mutable,
            )
            terms, new_model_state = out if mutable else (out, state.model_state)
            return (terms.loss.mean(), *_player_losses(terms, names)), (terms, new_model_state)

        losses, (terms, new_model_state), grads = player_gradients(loss_fn, state.params, names)
        direction, new_opt_state = tx.update(grads, state.opt_state, state.params)
        updates = {k: _scale(d, -hparams[lr_keys.get(k, MAIN_LR)]) for k, d in direction.items()}
        new_params = optax.apply_updates(state.params, updates)

        grad_norm = optax.global_norm(grads)
        finite = jnp.isfinite(losses[0])
        for value in losses[1:]:
            finite = finite & jnp.isfinite(value)
        finite = finite & jnp.isfinite(grad_norm)
        params, model_state, opt_state = new_params, new_model_state, new_opt_state
        if keep_state_on_nonfinite:
            # An elementwise select, not lax.cond: on CPU the cond's branch copies of the whole
            # state cost more than reading both candidates once.
            params, model_state, opt_state = jax.tree_util.tree_map(
                lambda new, old: jnp.where(finite, new, old),
                (params, model_state, opt_state),
                (state.params, state.model_state, state.opt_state),
            )
        metrics = {name: value.mean() for name, value in terms.terms.items()}
        metrics.update(_aux_metrics(terms, names, losses[1:]))
        metrics.update(loss=losses[0], grad_norm=grad_norm, finite=finite)
        new_state = TrainState(
            step=state.step + 1, params=params, model_state=model_state, opt_state=opt_state
        )
        return new_state, metrics

    return step


def param_norm(params) -> Array:
    """The global L2 norm over every parameter leaf: a float32 scalar."""
    return optax.global_norm(params)


def player_gradients(loss_fn: Callable, params: dict, players: Sequence[str] = ()):
    """Each player's loss differentiated with respect to its own parameters.

    ``loss_fn(params) -> ((loss, *player_losses), aux)`` with scalar losses, one per name in
    ``players`` (in that order). Returns ``(losses, aux, grads)`` where ``losses`` is
    ``(loss, *player_losses)``, ``grads[name]`` for each of ``players`` is the gradient of that
    player's loss and every other entry the gradient of ``loss``. Without ``players`` only
    ``loss`` is differentiated.
    """
    if players:
        # One forward pass shared by every player, then one VJP per player.
        losses, vjp_fn, aux = jax.vjp(loss_fn, params, has_aux=True)
        dtype = losses[0].dtype
        one, zero = jnp.ones((), dtype), jnp.zeros((), dtype)
        per_loss = []
        for i in range(len(losses)):
            (grads,) = vjp_fn(tuple(one if j == i else zero for j in range(len(losses))))
            per_loss.append(grads)
        owner = {name: i + 1 for i, name in enumerate(players)}
        grads = {k: per_loss[owner.get(k, 0)][k] for k in params}
        return losses, aux, grads

    def scalar_loss(p):
        (main, *_), rest = loss_fn(p)
        return main, rest

    (loss, aux), grads = jax.value_and_grad(scalar_loss, has_aux=True)(params)
    return (loss,), aux, grads


def _player_losses(terms: LossTerms, players: tuple[str, ...]) -> tuple[Array, ...]:
    """The batch mean of each player's loss, in the order of ``players``."""
    if not players:
        return ()
    if terms.aux_loss is None:
        raise ValueError(f"the objective declares players {players} but returns no aux_loss")
    if isinstance(terms.aux_loss, Mapping):
        return tuple(terms.aux_loss[name].mean() for name in players)
    if len(players) != 1:
        raise ValueError(f"players {players} need aux_loss as a dict keyed by player name")
    return (terms.aux_loss.mean(),)


def _aux_metrics(terms: LossTerms, players: tuple[str, ...], losses) -> dict[str, Array]:
    """``aux_loss`` (an array ``aux_loss``) or ``aux_loss_<name>`` (a dict) for the log."""
    aux = terms.aux_loss
    if aux is None:
        return {}
    if isinstance(aux, Mapping):
        if players:
            return {f"aux_loss_{n}": v for n, v in zip(players, losses, strict=True)}
        return {f"aux_loss_{n}": v.mean() for n, v in aux.items()}
    return {"aux_loss": losses[0] if players else aux.mean()}


def _scale(tree, scale: Array):
    return jax.tree_util.tree_map(lambda d: (scale * d).astype(d.dtype), tree)
