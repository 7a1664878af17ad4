"""Data parallelism on 8 fake CPU devices (in a subprocess, so this process keeps 1 device):
the loss curve equals one device's for the same global batch and seed (also when 8 does not
divide the number of examples), the training set is split along its example axis, and a
checkpoint saved with parameters sharded over 8 devices resumes on 1 device to the
uninterrupted run's result."""

from __future__ import annotations

import json
import subprocess
import textwrap

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env

CHILD = textwrap.dedent(
    """
    import json, pathlib, sys
    import jax, jax.numpy as jnp, numpy as np
    from conftest import tiny_config
    from aejax import build
    from aejax.train import epochs, loop, sharding
    from aejax.train import run as run_lib
    from aejax.train.logging import read_jsonl
    from aejax.train.rng import named_keys

    assert jax.device_count() == 8, jax.devices()
    out = pathlib.Path(sys.argv[1])
    placed = []  # the DeviceData each run trained on
    device_data = run_lib.device_data
    run_lib.device_data = lambda *a, **kw: placed.append(device_data(*a, **kw)) or placed[-1]

    def run(name, **kw):
        c = tiny_config(**{"train.num_steps": 16, "train.log_every": 2,
                           "train.checkpoint_every": 8, **kw})
        summary = loop.train(c, out / name)
        losses = [r["loss"] for r in read_jsonl(out / name / "metrics.jsonl")]
        return summary, losses

    def layout(data):
        return {k: {"shape": list(x.shape), "spec": list(x.sharding.spec),
                    "shards": sorted([s.index[0].start, s.index[0].stop, s.data.shape[0]]
                                     for s in x.addressable_shards)}
                for k, x in {"images": data.fields["image"], "labels": data.fields["label"],
                             **data.pools}.items()}

    one, one_losses = run("one", **{"train.data_parallel": False})
    eight, eight_losses = run("eight")
    eight_layout = layout(placed[-1])
    # 500 examples: 8 does not divide them (504 rows on device, 4 of them padding); 15 steps
    # per epoch, so the 16 steps also cross an epoch boundary.
    odd = {"data.shapes.num_train": 500}
    _, odd_one_losses = run("odd_one", **odd, **{"train.data_parallel": False})
    _, odd_eight_losses = run("odd_eight", **odd)
    odd_layout = layout(placed[-1])

    # The labelled pool (replicated ids) gathers the same examples from the split images.
    c = tiny_config(**odd)
    ds = build.load_data(c, "train")
    pool = np.arange(3, 500, 7)
    key = named_keys(0)["data"]
    def batches(data):
        batch = jax.jit(epochs.make_batch_fn(500, 32, "dynamic", key, key))(data, jnp.int32(17))
        part = jax.jit(lambda d: epochs.stream_batch(d, "labelled", jnp.int32(5), 8,
                                                       jnp.int32(1), key, "dynamic", key))(data)
        return [np.asarray(v) for v in (*batch.values(), *part.values())]
    same_batches = all(
        np.array_equal(a, b) for a, b in zip(
            batches(device_data(ds, {"labelled": pool})),
            batches(device_data(ds, {"labelled": pool}, sharding.make_mesh())))
    )
    sharding.SHARD_MIN_SIZE = 1  # split every parameter with an axis divisible by 8
    run("resumed", **{"train.num_steps": 8, "train.shard_params": True})
    saved = pathlib.Path(out / "resumed" / "checkpoints" / "8")
    resumed, resumed_losses = run("resumed", **{"train.data_parallel": False})
    print(json.dumps({
        "one": one_losses, "eight": eight_losses, "resumed": resumed_losses,
        "odd_one": odd_one_losses, "odd_eight": odd_eight_losses,
        "eight_layout": eight_layout, "odd_layout": odd_layout, "same_batches": same_batches,
        "compilations": eight["train_compilations"],
        "one_sha": one["params_sha256"], "resumed_sha": resumed["params_sha256"],
        "saved": saved.exists(),
    }))
    """
)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    env = script_env()
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    env["JAX_PLATFORMS"] = "cpu"
    out = tmp_path_factory.mktemp("sharding")
    proc = subprocess.run(
        [PYTHON, "-c", CHILD, str(out)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_eight_devices_follow_one_device_loss_curve(result):
    assert len(result["one"]) == len(result["eight"]) == 8
    np.testing.assert_allclose(result["eight"], result["one"], rtol=1e-5)
    # One compiled chunk program: the sharded state's layout is stable across calls.
    assert result["compilations"] == 1


def test_training_set_is_split_along_examples(result):
    # 512 examples over 8 devices: each holds 64 consecutive rows of images and labels.
    for key in ("images", "labels"):
        placed = result["eight_layout"][key]
        assert placed["shape"][0] == 512 and placed["spec"] == ["data"]
        assert placed["shards"] == [[64 * i, 64 * (i + 1), 64] for i in range(8)]
    # 500 examples: padded to 504 rows, 63 per device; the padding is never read.
    images = result["odd_layout"]["images"]
    assert images["shape"] == [504, 16, 16, 1]
    assert images["shards"] == [[63 * i, 63 * (i + 1), 63] for i in range(8)]


def test_indivisible_dataset_follows_one_device(result):
    assert len(result["odd_one"]) == len(result["odd_eight"]) == 8
    np.testing.assert_allclose(result["odd_eight"], result["odd_one"], rtol=1e-5)
    assert result["same_batches"]


def test_checkpoint_sharded_on_eight_restores_on_one(result):
    assert result["saved"]
    assert len(result["resumed"]) == 8
    # Steps 9..16 ran on one device from the 8-device checkpoint; the curve and (to rounding) the
    # result match the run that never stopped.
    np.testing.assert_allclose(result["resumed"], result["one"], rtol=1e-5)
