"""Helpers for ``scripts/benchmark.py``: machine description, matmul rate, FLOP accounting,
peak memory and a small test-set ELBO.

FLOPs count multiply-adds as 2. "Matmul FLOPs" are those of ``dot_general`` (and convolutions);
elementwise work (activations, the loss, the optimizer) is not counted, as is usual when quoting a
fraction of a machine's matmul rate.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex_core

from aejax.types import Array, PRNGKey, PyTree

# The figure for experiments/vae_mnist.py: MLP 784-500-40 (+ the 40x40 posterior head),
# decoder 20-500-784; forward + weight gradients + input gradients, per image per train step.
NOMINAL_VAE_MNIST_FLOPS_PER_IMAGE = 4.1e6


# ----------------------------------------------------------------------------------------------
# The machine


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` "model name" on Linux, else ``platform``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def num_cores() -> int:
    """CPU cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` elsewhere)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_info() -> dict:
    """The machine as the benchmark sees it: CPU, cores, jax backend and device, versions, load."""
    device = jax.devices()[0]
    return {
        "cpu_model": cpu_model(),
        "num_cores": num_cores(),
        "jax_backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "num_devices": jax.device_count(),
        "jax_version": jax.__version__,
        "jaxlib_version": _jaxlib_version(),
        "python_version": platform.python_version(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "default_matmul_precision": jax.config.jax_default_matmul_precision,
        "load_average_1m": load_average(),
    }


def _jaxlib_version() -> str | None:
    try:
        import jaxlib

        return jaxlib.__version__
    except (ImportError, AttributeError):
        return None


def timed_command(cmd: Sequence[str], env: dict, cwd) -> float:
    """Runs ``cmd`` to completion and returns its wall time in seconds; a failing command ends
    the benchmark with its last lines of stderr (a figure from a failed run means nothing)."""
    import subprocess

    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def load_average() -> float | None:
    """The 1-minute load average (other processes competing for the cores), if the OS has one."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


# ----------------------------------------------------------------------------------------------
# Matmul rate


def default_matmul_size() -> int:
    """Square size for :func:`matmul_gflops`: 2048 on CPU (~17 GFLOP a rep), 8192 on GPU/TPU."""
    return 2048 if jax.default_backend() == "cpu" else 8192


def matmul_gflops(n: int | None = None, reps: int = 5, dtype=jnp.float32) -> float:
    """Best-of-``reps`` rate of one ``[n, n] @ [n, n]`` ``jnp.dot`` on jax's default device.

    Returns GFLOP/s (``2 n^3`` FLOPs a product, at the default matmul precision, i.e. what the
    train step uses too). The first call compiles and is not timed.
    """
    n = default_matmul_size() if n is None else int(n)
    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (n, n), dtype)
    b = jax.random.normal(kb, (n, n), dtype)
    dot = jax.jit(jnp.dot)
    dot(a, b).block_until_ready()
    best = math.inf
    for _ in range(max(1, reps)):
        start = time.perf_counter()
        dot(a, b).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def matmul_reps_for(seconds: float, gflops: float, n: int, max_reps: int = 50) -> int:
    """How many ``[n, n]`` products at ``gflops`` GFLOP/s fill about ``seconds`` (2 at least)."""
    per_product = 2.0 * n**3 / (gflops * 1e9)
    return int(min(max_reps, max(2, math.ceil(seconds / per_product))))


def paired_fractions(
    flops_per_epoch: float, epoch_seconds: Sequence[float], matmul_gflops_after: Sequence[float]
) -> list[float]:
    """Each epoch's step rate as a fraction of the matmul rate measured right after it.

    The speed of a shared or virtual machine drifts from one second to the next (on the VMs this
    project runs on, by how much: docs/performance.md), so the best
    matmul sample of a run and its median epoch can come from different phases. Pairing each
    epoch with the matmul rate of the moment puts both under the same conditions, as the JAX /
    PyTorch comparison pairs alternating epochs.

    Args:
      flops_per_epoch: matmul FLOPs of one epoch's steps.
      epoch_seconds: wall time of each epoch.
      matmul_gflops_after: the matmul rate (GFLOP/s) measured after each epoch, same length.
    """
    return [
        flops_per_epoch / seconds / 1e9 / rate
        for seconds, rate in zip(epoch_seconds, matmul_gflops_after, strict=True)
    ]


# ----------------------------------------------------------------------------------------------
# FLOP accounting


@dataclasses.dataclass(frozen=True)
class DenseLayer:
    """A dense layer ``[B, fan_in] @ [fan_in, fan_out]``; ``input_grad``: whether the backward
    pass also computes the gradient with respect to its input (False for a layer reading data)."""

    name: str
    fan_in: int
    fan_out: int
    input_grad: bool = True


def dense_train_flops(layers: Sequence[DenseLayer]) -> int:
    """Matmul FLOPs of one train step per example: forward ``2 i o``, weight gradient ``2 i o``
    and, where ``input_grad``, input gradient ``2 i o`` for each layer."""
    return sum(2 * la.fan_in * la.fan_out * (3 if la.input_grad else 2) for la in layers)


def autoencoder_dense_layers(params: PyTree) -> list[DenseLayer]:
    """Every 2-D ``kernel`` of an :class:`~aejax.models.AutoEncoder`'s params as a DenseLayer.

    The encoder's first layer (``encoder/Dense_0`` of an MLP encoder, which has no conv kernels)
    reads the data and so has no input gradient. Conv kernels are left out: for conv models use
    :func:`jaxpr_matmul_flops`.
    """
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    named = [("/".join(_key_name(k) for k in path), leaf) for path, leaf in flat]
    kernels = [(name, leaf) for name, leaf in named if name.endswith("kernel")]
    encoder_has_conv = any(name.startswith("encoder/") and leaf.ndim > 2 for name, leaf in kernels)
    return [
        DenseLayer(
            name=name.removesuffix("/kernel"),
            fan_in=int(leaf.shape[0]),
            fan_out=int(leaf.shape[1]),
            input_grad=encoder_has_conv or name != "encoder/Dense_0/kernel",
        )
        for name, leaf in kernels
        if leaf.ndim == 2
    ]


def _key_name(k) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def jaxpr_matmul_flops(jaxpr) -> int:
    """FLOPs of every ``dot_general`` and ``conv_general_dilated`` in a (closed) jaxpr.

    Recurses into sub-jaxprs: a ``scan`` body counts ``length`` times, a ``cond`` its costliest
    branch, a ``while`` body once (its trip count is unknown). Use on
    ``jax.make_jaxpr(train_step)(...)`` to count what autodiff actually emits.
    """
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            (lhs_contract, _), _ = eqn.params["dimension_numbers"]
            lhs_shape = eqn.invars[0].aval.shape
            k = math.prod(lhs_shape[d] for d in lhs_contract)
            total += 2 * math.prod(eqn.outvars[0].aval.shape) * k
        elif name == "conv_general_dilated":
            rhs_shape = eqn.invars[1].aval.shape
            out_features = rhs_shape[eqn.params["dimension_numbers"].rhs_spec[0]]
            per_output = math.prod(rhs_shape) // out_features  # (I / groups) * kernel window
            total += 2 * math.prod(eqn.outvars[0].aval.shape) * per_output
        if name == "cond":
            total += max(jaxpr_matmul_flops(b) for b in eqn.params["branches"])
            continue
        inner = sum(jaxpr_matmul_flops(sub) for sub in _subjaxprs(eqn.params))
        total += inner * (int(eqn.params["length"]) if name == "scan" else 1)
    return total


def _subjaxprs(params: dict):
    for value in params.values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, (jex_core.ClosedJaxpr, jex_core.Jaxpr)):
                yield item


def step_flops_per_example(step_fn: Callable, *args, batch_size: int) -> float:
    """Matmul FLOPs per example of ``step_fn(*args)`` counted from its jaxpr."""
    return jaxpr_matmul_flops(jax.make_jaxpr(step_fn)(*args)) / batch_size


# ----------------------------------------------------------------------------------------------
# Memory and timing summaries


def peak_memory(device=None) -> dict:
    """``host_rss_peak_bytes`` (this process's max resident set, ``getrusage``) and
    ``device_peak_bytes`` (``memory_stats()["peak_bytes_in_use"]``; None where the device has no
    allocator statistics, e.g. on CPU)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB
    device = jax.devices()[0] if device is None else device
    stats = None
    try:
        stats = device.memory_stats()
    except (AttributeError, NotImplementedError, RuntimeError):
        pass  # backends without allocator statistics (some CPU builds) report no device peak
    return {
        "host_rss_peak_bytes": int(rss_bytes),
        "device_peak_bytes": int(stats["peak_bytes_in_use"])
        if stats and "peak_bytes_in_use" in stats
        else None,
    }


def summarize_times(times: Sequence[float]) -> dict:
    """``{"median", "min", "max", "n"}`` of ``times`` (seconds); all None when empty."""
    if not times:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "n": len(times),
    }


# ----------------------------------------------------------------------------------------------
# Test-set negative ELBO


def negative_elbo_per_example(model, params: PyTree, x: Array, keys: PRNGKey) -> Array:
    """``-log p(x|z) + KL(q(z|x) || p(z))`` per example ``[B]`` (nats), analytic KL, one sample
    ``z ~ q(z|x)`` drawn from ``fold_in(keys[b], 0)`` (sample 0, as ``evaluate_split`` draws it).

    ``x: [B, H, W, C]``; ``keys: [B]``.
    """
    variables = {"params": params}
    posterior = model.apply(variables, x, method=lambda m, x: m.encode(x))
    prior = model.apply(variables, method=lambda m: m.prior_dist())
    sample_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys)
    z = jax.vmap(lambda post, k: post.sample(k))(posterior, sample_keys)
    recon = -model.apply(variables, z, method=lambda m, z: m.decode(z)).log_prob(x)
    return recon + prior.kl_from(posterior).sum(-1)


def split_negative_elbo(
    model, params: PyTree, images: np.ndarray, key: PRNGKey, batch_size: int = 500
) -> float:
    """Mean negative ELBO (nats) over ``images: float32 [N, H, W, C]`` (already binarised as the
    model should see them); example ``i`` samples from ``fold_in(key, i)``. The last batch is
    zero-padded to one compiled shape and the padding dropped."""
    fn = jax.jit(
        lambda p, x, ids: negative_elbo_per_example(
            model, p, x, jax.vmap(lambda i: jax.random.fold_in(key, i))(ids)
        )
    )
    n = images.shape[0]
    batch_size = max(1, min(batch_size, n))
    total = 0.0
    for start in range(0, n, batch_size):
        x = np.asarray(images[start : start + batch_size], np.float32)
        valid = x.shape[0]
        if valid < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - valid, *x.shape[1:]), x.dtype)])
        ids = jnp.arange(start, start + batch_size, dtype=jnp.int32)
        total += float(np.asarray(fn(params, jnp.asarray(x), ids), np.float64)[:valid].sum())
    return total / n
