"""Benchmark the train loop on an experiment (default ``vae_mnist``) against a PyTorch reference.

  AEJAX_DATA_DIR=../shared/data python scripts/benchmark.py --out runs/benchmark.json \
      [--epochs 10] [--config experiments/vae_mnist.py] [--no-torch]

Trains with the library's chunk runner (data on the device, one epoch per dispatch)
and, when torch is importable, trains ``benchmarks/torch_reference.py`` alternately with it
(JAX epoch, torch epoch, JAX epoch, ...) so both see the same machine conditions. After each
JAX epoch it times half a second of large matmuls, so each epoch's fraction of the matmul rate
can also be read against the rate of that moment (``fraction_of_matmul_rate_paired``). Writes a
JSON report and prints a table. Timings on a shared machine are noisy: the report records the
load average and every epoch's time; compare medians, and only numbers from the same device.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "experiments" / "vae_mnist.py"
TORCH_REFERENCE = REPO / "benchmarks" / "torch_reference.py"
TARGETS = {"fraction_of_matmul_rate": 0.6, "jax_over_torch": 1.6}  # the issue's goals on 2 cores


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="Where to write the JSON report.")
    p.add_argument("--epochs", type=int, default=10, help="Epochs to train (>= 2 to time).")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="Experiment config file.")
    p.add_argument("--no-torch", action="store_true", help="Skip the PyTorch reference.")
    p.add_argument("--torch-threads", type=int, default=None, help="Default: the core count.")
    p.add_argument("--torch-fused-adam", action="store_true", help="Adam(fused=True) in torch.")
    p.add_argument("--matmul-size", type=int, default=None, help="Default: 2048 CPU, 8192 GPU.")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    if not os.path.isfile(args.config):  # one line, exit status 2, as the other scripts
        print(f"error: --config {args.config}: no such experiment file", file=sys.stderr)
        sys.exit(2)
    return args


def load_config(path: str):
    """``get_config()`` of the experiment file at ``path``."""
    spec = importlib.util.spec_from_file_location("benchmark_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def _torch_reference_module():
    """The torch reference module, or an error message when torch is not importable."""
    try:
        spec = importlib.util.spec_from_file_location("torch_reference", TORCH_REFERENCE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module, None
    except ImportError as e:
        return None, f"torch not importable ({e})"


def torch_mismatch(config) -> str | None:
    """Why the torch reference (the vae_mnist architecture) does not fit ``config``, or None."""
    m = config.model
    checks = {
        "an MLP encoder and decoder": m.encoder.kind == m.decoder.kind == "mlp",
        "one hidden layer of equal width": len(m.encoder.hidden) == 1
        and tuple(m.encoder.hidden) == tuple(m.decoder.hidden),
        "ReLU": m.encoder.activation == m.decoder.activation == "relu",
        "a Gaussian posterior and Bernoulli likelihood": m.posterior == "gaussian"
        and m.likelihood == "bernoulli",
        "the ELBO with beta = 1": config.objective.name == "elbo" and config.elbo.beta == 1,
        "constant-rate Adam without clipping": config.optimizer.name == "adam"
        and config.optimizer.schedule == "constant"
        and not config.optimizer.warmup_steps
        and not config.optimizer.clip_norm,
        "dynamic binarisation": config.data.binarize == "dynamic",
    }
    missing = [name for name, ok in checks.items() if not ok]
    return f"the torch reference needs {', '.join(missing)}" if missing else None


def _test_inputs(config, exp, eval_key):
    """Test images as the model is evaluated on them (dynamic: binarised once, epoch 0)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from aejax import build
    from aejax.train.epochs import binarize_dynamic

    test = build.load_data(config, "test")
    images = np.asarray(test.images, np.float32)
    if exp.binarize == "dynamic":
        ids = jnp.arange(images.shape[0])
        images = np.asarray(jax.jit(binarize_dynamic)(eval_key, 0, ids, jnp.asarray(images)))
    return images


def _repo_relative(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (reports stay machine-free)."""
    resolved = pathlib.Path(path).resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def _after_warmup(per_epoch: list) -> list:
    """The entries of the epochs after the first (which compiles); all of them for one epoch."""
    return per_epoch[1:] if len(per_epoch) > 1 else per_epoch


def _median_or_first(times: list[float]) -> float:
    """The steady-state epoch time: median over epochs after the first (which compiles)."""
    import statistics

    return statistics.median(_after_warmup(times))


def run_benchmark(args: argparse.Namespace) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from aejax import benchmarking as bm
    from aejax.train.run import make_run
    from aejax.train.state import params_sha256

    config = load_config(args.config)
    config.train.num_steps, config.train.num_epochs = 0, args.epochs
    config.train.progress = False
    config.train.steps_per_call = 2**31 - 1  # one epoch per dispatch (chunks stop at an epoch)
    # The run the train loop builds for this config, on one device (aejax.train.run.make_run).
    run = make_run(config, mesh=None)
    train_ds, exp, keys, state = run.train_ds, run.experiment, run.keys, run.state
    shape = train_ds.info.shape
    step_fn, hparams, chunk = run.step_fn, run.hparams, run.chunk_len
    batch_size = exp.train.batch_size
    examples_per_epoch = chunk * batch_size

    layers = bm.autoencoder_dense_layers(state.params)
    dummy = {
        "image": jnp.zeros((batch_size, *shape), jnp.float32),
        "label": jnp.zeros((batch_size,), jnp.int32),
        "index": jnp.arange(batch_size, dtype=jnp.int32),
    }
    flops_jaxpr = bm.step_flops_per_example(
        step_fn, state, dummy, keys["train"], hparams, batch_size=batch_size
    )
    matmul_size = args.matmul_size or bm.default_matmul_size()
    load_start = bm.load_average()
    matmul_samples = [bm.matmul_gflops(matmul_size, reps=5)]
    # After each epoch, half a second of matmuls: the rate of that moment, to pair with the epoch.
    reps_after = bm.matmul_reps_for(0.5, matmul_samples[0], matmul_size)

    torch_mod, torch_skipped = None, "--no-torch" if args.no_torch else torch_mismatch(config)
    if torch_skipped is None:
        torch_mod, torch_skipped = _torch_reference_module()
    ref, torch_times, torch_threads = None, [], None
    jax_times, jax_losses, rss_jax = [], [], None
    for epoch in range(args.epochs):
        start = time.perf_counter()
        state, metrics = run.chunk(state, chunk)
        loss = np.asarray(jax.device_get(metrics["loss"]))  # what the train loop fetches too
        jax.block_until_ready(state)
        jax_times.append(time.perf_counter() - start)
        if not np.all(np.isfinite(loss)):
            raise FloatingPointError(f"non-finite JAX train loss in epoch {epoch}")
        jax_losses.append(float(loss.mean()))
        matmul_samples.append(bm.matmul_gflops(matmul_size, reps=reps_after))
        if epoch == 0:
            rss_jax = bm.peak_memory()
            if torch_mod is not None:
                torch_threads = args.torch_threads or bm.num_cores()
                torch_mod.torch.set_num_threads(torch_threads)
                ref = torch_mod.TorchReference(
                    train_ds.images,
                    batch_size=batch_size,
                    learning_rate=float(config.optimizer.learning_rate),
                    hidden=int(config.model.encoder.hidden[0]),
                    latent=int(config.model.latent_dim),
                    seed=exp.seed,
                    fused_adam=args.torch_fused_adam,
                )
        if ref is not None:
            torch_times.append(ref.train_epoch())

    eval_key = jax.random.fold_in(keys["eval"], 0)  # the streams scripts/evaluate.py uses
    test_images = _test_inputs(config, exp, jax.random.fold_in(keys["eval"], 1))
    jax_nelbo = bm.split_negative_elbo(exp.model, state.params, test_images, eval_key)

    memory = bm.peak_memory()
    seconds = _median_or_first(jax_times)
    examples_per_s = examples_per_epoch / seconds
    matmul = max(matmul_samples)
    flops_layers = bm.dense_train_flops(layers)
    # The issue's 4.1 MFLOP figure applies to vae_mnist only; other models use the exact count.
    nominal = bm.NOMINAL_VAE_MNIST_FLOPS_PER_IMAGE
    nominal = nominal if abs(flops_jaxpr / nominal - 1.0) < 0.01 else None
    flops_used = nominal or flops_jaxpr
    paired = bm.paired_fractions(
        flops_used * examples_per_epoch,
        _after_warmup(jax_times),
        _after_warmup(matmul_samples[1:]),  # [0] was taken before the first epoch
    )
    report = {
        "config": _repo_relative(args.config),
        "epochs": args.epochs,
        "batch_size": batch_size,
        "steps_per_epoch": chunk,
        "examples_per_epoch": examples_per_epoch,
        "machine": bm.machine_info(),
        "load_average_1m": {"start": load_start, "end": bm.load_average()},
        "compile_time_s": jax_times[0] - seconds if len(jax_times) > 1 else None,
        "first_epoch_s": jax_times[0],
        "seconds_per_epoch": seconds,
        "epoch_times_s": jax_times,
        "examples_per_s": examples_per_s,
        "peak_memory": {
            "host_rss_peak_bytes": memory["host_rss_peak_bytes"],
            "host_rss_peak_bytes_before_torch": rss_jax["host_rss_peak_bytes"],
            "device_peak_bytes": memory["device_peak_bytes"],
        },
        "train_loss_last_epoch": jax_losses[-1],
        "test_negative_elbo": jax_nelbo,
        "params_sha256": params_sha256(state.params),
        "flops_per_image": {
            "nominal": nominal,
            "dense_layers": flops_layers,
            "jaxpr": flops_jaxpr,
            "layers": [
                {
                    "name": la.name,
                    "fan_in": la.fan_in,
                    "fan_out": la.fan_out,
                    "input_grad": la.input_grad,
                }
                for la in layers
            ],
        },
        "matmul_size": matmul_size,
        "matmul_gflops": matmul,
        "matmul_gflops_samples": matmul_samples,
        "matmul_gflops_after_epoch": matmul_samples[1:],
        "step_gflops": flops_used * examples_per_s / 1e9,
        "step_gflops_exact": flops_jaxpr * examples_per_s / 1e9,
        "fraction_of_matmul_rate": flops_used * examples_per_s / 1e9 / matmul,
        "fraction_of_matmul_rate_exact": flops_jaxpr * examples_per_s / 1e9 / matmul,
        "fraction_of_matmul_rate_paired": paired,
        "fraction_of_matmul_rate_paired_median": float(np.median(paired)),
        "torch": None,
        "torch_skipped": torch_skipped,
        "jax_over_torch": None,
    }
    if ref is not None:
        torch_seconds = _median_or_first(torch_times)
        pairs = [
            t / j for j, t in zip(_after_warmup(jax_times), _after_warmup(torch_times), strict=True)
        ]
        report["torch"] = {
            "version": torch_mod.torch.__version__,
            "device": str(ref.device),
            "num_threads": torch_threads,
            "fused_adam": args.torch_fused_adam,
            "seconds_per_epoch": torch_seconds,
            "epoch_times_s": torch_times,
            "examples_per_s": ref.examples_per_epoch / torch_seconds,
            "train_loss_last_epoch": ref.last_epoch_loss,
            "test_negative_elbo": ref.negative_elbo(test_images),
        }
        report["jax_over_torch"] = examples_per_s / report["torch"]["examples_per_s"]
        report["jax_over_torch_paired_median"] = float(np.median(pairs))
    report["targets"] = {name: _target(goal, report, name) for name, goal in TARGETS.items()}
    return report


def _target(goal: float, report: dict, name: str) -> dict:
    """A target's two readings: ``value`` (ratio of medians, against the best matmul sample)
    and ``paired_median`` (epoch by epoch, under the same machine conditions)."""
    value, paired = report[name], report.get(f"{name}_paired_median")
    return {
        "target": goal,
        "value": value,
        "met": None if value is None else value >= goal,
        "paired_median": paired,
        "met_paired": None if paired is None else paired >= goal,
    }


def format_table(r: dict) -> str:
    """A readable summary of a report from :func:`run_benchmark`."""
    m, load, mem = r["machine"], r["load_average_1m"], r["peak_memory"]

    def num(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    rows = [
        (
            "machine",
            f"{m['cpu_model']}, {m['num_cores']} cores, {m['jax_backend']} ({m['device_kind']})",
        ),
        ("jax / jaxlib", f"{m['jax_version']} / {m['jaxlib_version']}"),
        (
            "load average (1 min)",
            f"{num(load['start'], '.2f')} -> {num(load['end'], '.2f')}",
        ),
        ("epochs x steps x batch", f"{r['epochs']} x {r['steps_per_epoch']} x {r['batch_size']}"),
        ("compile time", f"{num(r['compile_time_s'], '.2f')} s"),
        ("seconds per epoch", f"{r['seconds_per_epoch']:.3f} s (median after warm-up)"),
        ("examples/s (JAX)", f"{r['examples_per_s']:,.0f}"),
        (
            "host RSS peak",
            f"{mem['host_rss_peak_bytes'] / 2**20:,.0f} MiB "
            f"({mem['host_rss_peak_bytes_before_torch'] / 2**20:,.0f} MiB before torch)",
        ),
        (
            "device peak",
            "n/a"
            if r["peak_memory"]["device_peak_bytes"] is None
            else f"{r['peak_memory']['device_peak_bytes'] / 2**20:,.0f} MiB",
        ),
        ("test negative ELBO", f"{r['test_negative_elbo']:.2f} nats"),
        ("matmul rate", f"{r['matmul_gflops']:.1f} GFLOP/s (best, {r['matmul_size']}^2 f32)"),
        (
            "FLOP/image (nominal, exact)",
            f"{num(r['flops_per_image']['nominal'], '.4g')}, {r['flops_per_image']['jaxpr']:.6g}",
        ),
        ("step rate", f"{r['step_gflops']:.1f} GFLOP/s ({r['step_gflops_exact']:.1f} exact)"),
        (
            "fraction of matmul rate",
            f"{r['fraction_of_matmul_rate']:.1%} (paired median "
            f"{num(r.get('fraction_of_matmul_rate_paired_median'), '.1%')}; "
            f"target {TARGETS['fraction_of_matmul_rate']:.0%})",
        ),
    ]
    t = r["torch"]
    if t is None:
        rows.append(("torch", f"skipped: {r['torch_skipped']}"))
    else:
        rows += [
            ("torch", f"{t['version']} on {t['device']}, {t['num_threads']} threads"),
            ("torch seconds per epoch", f"{t['seconds_per_epoch']:.3f} s"),
            ("examples/s (torch)", f"{t['examples_per_s']:,.0f}"),
            ("torch test negative ELBO", f"{t['test_negative_elbo']:.2f} nats"),
            (
                "JAX / torch examples/s",
                f"{r['jax_over_torch']:.2f}x (paired median "
                f"{r['jax_over_torch_paired_median']:.2f}x; target {TARGETS['jax_over_torch']}x)",
            ),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    report = run_benchmark(args)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(format_table(report))
    print(f"report written to {out}")
    return report


if __name__ == "__main__":
    main()
