"""Trains several members of one shape group as one compiled program.

The per-member train step is the ordinary :func:`aejax.train.step.make_train_step`, run by the
ordinary chunk runner (:func:`aejax.train.epochs.make_chunk_runner`); ``jax.vmap`` maps that
chunk over a leading member axis of the train state, the keys (train, data order, binarisation)
and ``hparams``, while the dataset is shared (``in_axes=None``). Member ``i`` therefore computes
what it would compute alone, up to the float rounding of batched matrix products.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aejax import build
from aejax.train.epochs import DeviceData, make_chunk_runner
from aejax.train.loop import init_state
from aejax.train.rng import named_keys
from aejax.train.state import TrainState
from aejax.train.step import make_train_step


def stack(trees: Sequence):
    """Stacks equally shaped pytrees along a new leading axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def unstack(tree, i: int):
    """Member ``i`` of a stacked pytree."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def make_group_runner(exp: build.Experiment, num_examples: int):
    """``(run, chunk_len)``: ``run(states, data, keys, hparams, num_steps)`` advances every member
    by ``num_steps`` steps. ``states``/``hparams`` leaves and ``keys[purpose]`` carry a leading
    member axis ``[M]``; ``data`` is shared."""
    settings = exp.train
    step_fn = make_train_step(exp.model, exp.objective, exp.tx, players=exp.players)
    options = dict(
        num_examples=num_examples,
        batch_size=settings.batch_size,
        steps_per_call=settings.steps_per_call,
        binarize=exp.binarize,
        # Never halt inside the chunk: a per-member halt flag makes the chunk loop's predicate
        # batched, and vmap turns that into a select over the whole state each step (measured
        # 3x slower for 8 reference MLP VAEs on CPU). The step itself already leaves
        # a member's state unchanged on a non-finite step; train_group counts those steps.
        stop_on_nonfinite=False,
        streams=exp.streams,
        unroll=settings.scan_unroll,
    )

    def member(state, data, train_key, data_key, binarize_key, hparams, num_steps):
        # The data keys are per member (data order depends on the seed), so the runner is built
        # inside the trace with them; its inner jit is inlined into the vmapped program.
        run, _ = make_chunk_runner(step_fn, data_key=data_key, binarize_key=binarize_key, **options)
        return run(state, data, train_key, hparams, num_steps)

    mapped = jax.vmap(member, in_axes=(0, None, 0, 0, 0, 0, None))

    def run(states: TrainState, data: DeviceData, keys: dict, hparams: dict, num_steps):
        return mapped(
            states, data, keys["train"], keys["data"], keys["binarize"], hparams, num_steps
        )

    chunk_len = max(1, min(settings.steps_per_call, settings.steps_per_epoch))
    return jax.jit(run, donate_argnums=(0,)), chunk_len


def init_group(exps: Sequence[build.Experiment], image_shape) -> tuple[TrainState, dict, dict]:
    """Stacked fresh states, keys ``{purpose: [M] keys}`` and hparams ``{name: float32[M]}``."""
    keys = stack([named_keys(e.seed) for e in exps])
    exp0 = exps[0]
    states = jax.vmap(lambda k: init_state(exp0, image_shape, k))(keys["init"])
    hparams = stack([build.hparams_as_arrays(e.hparams) for e in exps])
    return states, keys, hparams


def train_group(
    exps: Sequence[build.Experiment], data: DeviceData, image_shape, on_log=None
) -> tuple[TrainState, dict]:
    """Trains every member for ``exps[0].train.num_steps`` steps.

    ``on_log(step, [scalars per member])`` is called every ``train.log_every`` steps with the
    window means of each member's finite steps. Returns the stacked final states and
    ``{"wall_time_s", "compile_s", "nonfinite_steps": int[M], "steps"}``.
    """
    exp0 = exps[0]
    settings = exp0.train
    num_members = len(exps)
    run, chunk_len = make_group_runner(exp0, data.num_examples)
    states, keys, hparams = init_group(exps, image_shape)
    t0 = time.perf_counter()
    compiled = run.lower(states, data, keys, hparams, jnp.int32(1)).compile()
    compile_s = time.perf_counter() - t0
    windows: list[dict[str, list]] = [{} for _ in range(num_members)]
    nonfinite = np.zeros(num_members, np.int64)
    step, total = 0, settings.num_steps
    t0 = time.perf_counter()
    while step < total:
        n = min(chunk_len, total - step, settings.log_every - step % settings.log_every)
        states, metrics = compiled(states, data, keys, hparams, jnp.int32(n))
        metrics = jax.device_get(metrics)
        for i in range(num_members):
            active, finite = metrics["active"][i], metrics["finite"][i]
            nonfinite[i] += int((active & ~finite).sum())
            for k, v in metrics.items():
                if k not in ("active", "step", "finite"):
                    windows[i].setdefault(k, []).extend(v[i][active & finite].tolist())
        step += n
        if step % settings.log_every == 0 or step == total:
            rows = [{k: float(np.mean(v)) for k, v in w.items() if v} for w in windows]
            if on_log is not None:
                on_log(step, rows)
            windows = [{} for _ in range(num_members)]
    jax.block_until_ready(states)
    info = {
        "wall_time_s": time.perf_counter() - t0,
        "compile_s": compile_s,
        "nonfinite_steps": nonfinite.tolist(),
        "steps": step,
    }
    return states, info
