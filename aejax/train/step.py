"""The pure train step ``step(state, batch, key, hparams) -> (state, metrics)``."""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from aejax.train.rng import step_key
from aejax.train.state import TrainState
from aejax.types import Array, Batch, HParams, PRNGKey

StepFn = Callable[[TrainState, Batch, PRNGKey, HParams], tuple[TrainState, dict[str, Array]]]


def make_train_step(
    model: nn.Module, objective: Callable, tx: optax.GradientTransformation
) -> StepFn:
    """Builds the train step for ``model`` trained on ``objective`` with direction ``tx``.

    ``tx`` gives the update direction only; the step multiplies it by
    ``-hparams["learning_rate"]``, so the learning rate is an array that ``vmap`` can batch.

    The step derives its key as ``fold_in(key, state.step)`` (pass the run's training key every
    time). When the loss or the gradient norm is not finite the parameters, model state and
    optimizer state are left unchanged (the step counter still advances) and
    ``metrics["finite"]`` is False; the caller decides whether to stop or go on.

    Metrics are batch means of the objective's terms plus ``loss``, ``grad_norm``,
    ``update_norm``, ``param_norm`` and ``finite``.
    """

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
            return terms.loss.mean(), (terms, new_model_state)

        (loss, (terms, new_model_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params
        )
        direction, new_opt_state = tx.update(grads, state.opt_state, state.params)
        lr = hparams["learning_rate"]
        updates = jax.tree_util.tree_map(lambda d: (-lr * d).astype(d.dtype), direction)
        new_params = optax.apply_updates(state.params, updates)

        grad_norm = optax.global_norm(grads)
        finite = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
        params, model_state, opt_state = jax.lax.cond(
            finite,
            lambda: (new_params, new_model_state, new_opt_state),
            lambda: (state.params, state.model_state, state.opt_state),
        )
        metrics = {name: value.mean() for name, value in terms.terms.items()}
        metrics.update(
            loss=loss,
            grad_norm=grad_norm,
            update_norm=optax.global_norm(updates),
            param_norm=optax.global_norm(params),
            finite=finite,
        )
        new_state = TrainState(
            step=state.step + 1, params=params, model_state=model_state, opt_state=opt_state
        )
        return new_state, metrics

    return step
