"""The chunk runner runs the same steps whether it loops with ``while_loop`` (``unroll=1``) or
with an unrolled scan that skips inactive steps by a select (``unroll>1``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from aejax.train.epochs import (
    DeviceData,
    EpochOrders,
    chunk_orders,
    epoch_permutation,
    make_chunk_runner,
)


@struct.dataclass
class Counter:
    step: jax.Array
    total: jax.Array  # running sum of the batch means


def _step(bad_step: int):
    """A toy step: adds the batch mean to ``total``; its loss turns NaN at ``bad_step``."""

    def step(st: Counter, batch, key, hparams):
        del key
        mean = batch["image"].mean() * hparams["scale"]
        loss = jnp.where(st.step == bad_step, jnp.nan, mean)
        new = Counter(step=st.step + 1, total=st.total + mean)
        return new, {"loss": loss, "finite": jnp.isfinite(loss)}

    return step


def _run(unroll: int, bad_step: int, num_steps: int):
    images = jnp.arange(64 * 2 * 2, dtype=jnp.float32).reshape(64, 2, 2, 1) / 256.0
    data = DeviceData(fields={"image": images, "label": jnp.zeros(64, jnp.int32)})
    run, chunk = make_chunk_runner(
        _step(bad_step),
        num_examples=64,
        batch_size=8,
        steps_per_call=6,
        binarize="none",
        data_key=jax.random.key(1),
        binarize_key=jax.random.key(2),
        unroll=unroll,
    )
    state = Counter(step=jnp.int32(0), total=jnp.float32(0.0))
    state, metrics = jax.jit(run)(
        state, data, jax.random.key(3), {"scale": jnp.float32(2.0)}, jnp.int32(num_steps)
    )
    return chunk, state, jax.device_get(metrics)


@pytest.mark.parametrize("bad_step,num_steps", [(99, 6), (99, 4), (2, 6)])
def test_while_loop_and_unrolled_scan_run_the_same_steps(bad_step, num_steps):
    chunk, rolled, m_rolled = _run(1, bad_step, num_steps)
    _, unrolled, m_unrolled = _run(6, bad_step, num_steps)
    assert chunk == 6
    ran = min(num_steps, bad_step + 1)  # the non-finite step runs, then the chunk halts
    assert m_rolled["active"].sum() == ran
    np.testing.assert_array_equal(m_rolled["active"], m_unrolled["active"])
    np.testing.assert_array_equal(m_rolled["finite"], m_unrolled["finite"])
    np.testing.assert_allclose(m_rolled["loss"], m_unrolled["loss"], rtol=1e-6)
    assert int(rolled.step) == int(unrolled.step)
    np.testing.assert_allclose(rolled.total, unrolled.total, rtol=1e-6)
    # Inactive slots report zeros, whichever mechanism skipped them.
    assert not m_unrolled["loss"][~m_unrolled["active"]].any()


@pytest.mark.parametrize("unroll", [1, 6])
def test_slots_report_step_numbers_and_zeros_after_the_last_active_step(unroll):
    _, state, m = _run(unroll, bad_step=99, num_steps=4)
    np.testing.assert_array_equal(m["step"], np.arange(6))
    np.testing.assert_array_equal(m["active"], np.arange(6) < 4)
    assert int(state.step) == 4
    # Each step adds its loss (batch mean times hparams["scale"]) to the total: exactly the four
    # active slots ran, and each slot holds its own step's loss.
    np.testing.assert_allclose(float(state.total), m["loss"][:4].sum(), rtol=1e-6)
    assert np.all(m["loss"][:4] > 0) and len(set(m["loss"][:4].tolist())) == 4
    assert not m["loss"][4:].any() and not m["finite"][4:].any()


def test_loop_orders_match_the_orders_a_chunk_draws_itself():
    key, n, b = jax.random.key(5), 64, 8  # 8 steps per epoch
    orders = EpochOrders(key, n)
    for epoch in (0, 1, 3):
        got = np.asarray(orders.get(epoch))
        want = [np.asarray(epoch_permutation(key, jnp.int32(e), n)) for e in (epoch, epoch + 1)]
        np.testing.assert_array_equal(got, np.stack(want))
        assert sorted(got[0].tolist()) == list(range(n)) and not (got[0] == got[1]).all()
    # A chunk that reaches the next epoch draws both orders, as the loop passes them ...
    crossing = np.asarray(chunk_orders(key, jnp.int32(8 * 3 + 5), jnp.int32(6), n, b))
    np.testing.assert_array_equal(crossing, np.asarray(orders.get(3)))
    # ... and one that stays in its epoch reads only row 0.
    inside = np.asarray(chunk_orders(key, jnp.int32(8 * 3), jnp.int32(8), n, b))
    np.testing.assert_array_equal(inside[0], np.asarray(orders.get(3))[0])


def test_runner_given_orders_reads_the_same_batches():
    images = jnp.arange(64 * 2 * 2, dtype=jnp.float32).reshape(64, 2, 2, 1) / 256.0
    data = DeviceData(fields={"image": images, "label": jnp.zeros(64, jnp.int32)})
    options = dict(num_examples=64, batch_size=8, steps_per_call=6, binarize="none")
    key = jax.random.key(1)
    run, _ = make_chunk_runner(
        _step(99), data_key=key, binarize_key=key, record_indices=True, **options
    )
    hp = {"scale": jnp.float32(1.0)}
    start = Counter(step=jnp.int32(5), total=jnp.float32(0.0))  # crosses into epoch 1
    _, drawn = run(start, data, key, hp, jnp.int32(6))
    start = Counter(step=jnp.int32(5), total=jnp.float32(0.0))
    _, given = run(start, data, key, hp, jnp.int32(6), EpochOrders(key, 64).get(0))
    np.testing.assert_array_equal(np.asarray(drawn["index"]), np.asarray(given["index"]))
    assert len(set(np.asarray(drawn["index"]).ravel().tolist())) > 8
