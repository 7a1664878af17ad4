"""Benchmark the IWAE evaluation (K = 5000 by default) of a trained ``vae_mnist`` run against a
plain PyTorch implementation of the same estimator with the same weights.

  AEJAX_DATA_DIR=../shared/data python scripts/iwae_benchmark.py --workdir runs/vae_mnist \
      --out runs/iwae_benchmark.json [--num_test 200] [--iwae_k 5000] [--rounds 3]

Runs on the first ``--num_test`` test images, binarised as ``scripts/evaluate.py`` does, in
alternating rounds (aejax, aejax as it chunked before the CPU cap, torch at each
``--torch_samples_per_call``), so load drift on a shared machine hits every contestant alike;
the first round compiles and warms up and is not timed. Then it checks that both compute the
same bound: on the same ``z`` draws (aejax's) the log weights and bounds agree to float32
rounding, and with their own random numbers the mean bounds agree within Monte-Carlo error.
Writes a JSON report and prints a table. ``benchmarks/torch_iwae.py`` is the PyTorch side.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import pathlib
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
TORCH_IWAE = REPO / "benchmarks" / "torch_iwae.py"
TARGET = 2.0  # issue 15: aejax examples/s at K = 5000 >= 2x PyTorch's


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", required=True, help="A trained vae_mnist run.")
    p.add_argument("--out", required=True, help="Where to write the JSON report.")
    p.add_argument("--num_test", type=int, default=200, help="First N test images to evaluate.")
    p.add_argument("--iwae_k", type=int, default=5000, help="Importance samples K.")
    p.add_argument("--rounds", type=int, default=3, help="Timed rounds (after one warm-up).")
    p.add_argument("--batch_size", type=int, default=None, help="Default: the run's eval one.")
    p.add_argument(
        "--torch_samples_per_call",
        default="20000,100000",
        help="Comma-separated chunk sizes (examples x samples) for torch; its best one counts.",
    )
    p.add_argument("--check_examples", type=int, default=16, help="Examples of the same-z check.")
    p.add_argument("--check_k", type=int, default=500, help="Samples of the same-z check.")
    p.add_argument("--no_uncapped", action="store_true", help="Skip aejax without the CPU cap.")
    args = p.parse_args(argv)
    if min(args.num_test, args.iwae_k, args.rounds, args.check_examples, args.check_k) < 1:
        p.error("--num_test, --iwae_k, --rounds, --check_examples and --check_k must be >= 1")
    return args


def _torch_iwae_module():
    spec = importlib.util.spec_from_file_location("torch_iwae", TORCH_IWAE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_mismatch(config) -> str | None:
    """Why ``benchmarks/torch_iwae.py`` (the vae_mnist network) does not fit ``config``, or None."""
    m = config.model
    checks = {
        "MLP encoder and decoder": m.encoder.kind == m.decoder.kind == "mlp",
        "one hidden layer each": len(m.encoder.hidden) == len(m.decoder.hidden) == 1,
        "ReLU, no norm, no dropout": all(
            n.activation == "relu" and n.norm == "none" and not n.dropout
            for n in (m.encoder, m.decoder)
        ),
        "a Gaussian posterior": m.posterior == "gaussian",
        "a Bernoulli likelihood": m.likelihood == "bernoulli",
        "a standard normal prior": m.prior == "standard_normal",
        "no labels": not m.num_classes,
        "one stochastic layer": not tuple(m.ladder.latent_dims),
    }
    missing = [name for name, ok in checks.items() if not ok]
    return f"the torch reference needs {', '.join(missing)}" if missing else None


@contextlib.contextmanager
def _without_cpu_cap():
    """aejax as it chunked before the CPU cap: chunks from ``max_samples_per_call`` alone."""
    from aejax.evaluation import estimators

    saved = estimators.CPU_SAMPLES_PER_CALL
    estimators.CPU_SAMPLES_PER_CALL = sys.maxsize
    try:
        yield
    finally:
        estimators.CPU_SAMPLES_PER_CALL = saved


def _same_z_check(ref, torch, lk, model, variables, x, key, num_samples) -> dict:
    """Log weights and bounds of aejax and torch on aejax's draws ``z [K, B, D]``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from aejax.train.rng import example_keys

    keys = example_keys(key, jnp.arange(x.shape[0]))
    w_jax = np.asarray(lk.iwae_log_weights(model, variables, jnp.asarray(x), keys, num_samples))
    encode, _, _ = lk.model_fns(model, variables)
    z = np.array(lk.draw_posterior(encode(jnp.asarray(x)), keys, jnp.arange(num_samples)))
    xt = torch.from_numpy(x.reshape(x.shape[0], -1).copy())
    with torch.no_grad():
        w_torch = ref.log_weights(xt, ref.posterior(xt), torch.from_numpy(z)).numpy()
    bound = {
        name: jax.scipy.special.logsumexp(w, axis=0) - math.log(num_samples)
        for name, w in (("jax", w_jax), ("torch", w_torch))
    }
    diff = np.abs(np.asarray(bound["jax"]) - np.asarray(bound["torch"]))
    return {
        "examples": int(x.shape[0]),
        "iwae_k": int(num_samples),
        "max_abs_diff_log_weights": float(np.abs(w_jax - w_torch).max()),
        "max_abs_log_weight": float(np.abs(w_jax).max()),
        "max_abs_diff_bound": float(diff.max()),
        "mean_bound_jax": float(np.mean(bound["jax"])),
    }


def _timed_rounds(contestants: dict, rounds: int) -> dict:
    """Alternating rounds (the order reversed every other round); round 0 is the warm-up.

    Returns ``{name: {"seconds": [...], "warmup_s": s, "load_average_1m": [...]}}``, and the
    last output of each contestant under ``"value"``.
    """
    from aejax import benchmarking as bm

    out = {name: {"seconds": [], "load_average_1m": []} for name in contestants}
    names = list(contestants)
    for r in range(rounds + 1):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            value = contestants[name]()
            seconds = time.perf_counter() - start
            if r == 0:
                out[name]["warmup_s"] = seconds
            else:
                out[name]["seconds"].append(seconds)
                out[name]["load_average_1m"].append(bm.load_average())
            out[name]["value"] = value
            print(f"round {r} {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return out


def _paired_ratios(fast: list[float], slow: list[float]) -> list[float]:
    """``slow / fast`` round by round (both timed in the same round, so under the same load)."""
    return [s / f for f, s in zip(fast, slow, strict=True)]


def run_benchmark(args: argparse.Namespace) -> dict:
    import jax
    import numpy as np

    from aejax import benchmarking as bm
    from aejax import build
    from aejax.evaluation import likelihood as lk
    from aejax.evaluation.parts.base import BINARIZE_STREAM, IWAE_STREAM
    from aejax.train.restore import load_trained
    from aejax.train.rng import named_keys

    run = load_trained(args.workdir)
    model, variables, cfg = run.experiment.model, run.variables, run.config
    eval_key = named_keys(int(run.experiment.seed))["eval"]
    test = build.load_data(cfg, "test")
    n = min(args.num_test, len(test))
    x = lk.eval_inputs(
        test.images[:n], run.experiment.binarize, jax.random.fold_in(eval_key, BINARIZE_STREAM)
    )
    key = jax.random.fold_in(eval_key, IWAE_STREAM)
    k = args.iwae_k
    batch_size = min(args.batch_size or run.experiment.eval.batch_size, n)
    memory_bound = run.experiment.eval.max_samples_per_call
    torch_chunks = [int(c) for c in args.torch_samples_per_call.split(",") if c]

    def aejax_nll():
        return lk.iwae_nll(
            model,
            variables,
            x,
            key,
            num_samples=k,
            batch_size=batch_size,
            max_samples_per_call=memory_bound,
            progress=False,
        )

    def aejax_uncapped_nll():
        with _without_cpu_cap():
            return aejax_nll()

    contestants = {"aejax": aejax_nll}
    if not args.no_uncapped:
        contestants["aejax_uncapped"] = aejax_uncapped_nll
    skipped = torch_mismatch(cfg)
    torch = ref = None
    if skipped is None:
        try:
            torch_iwae = _torch_iwae_module()
        except ImportError as e:
            skipped = f"torch not importable ({e})"
    if skipped is None:
        torch = torch_iwae.torch
        torch.set_num_threads(bm.num_cores())
        ref = torch_iwae.TorchIWAE(jax.tree_util.tree_map(np.asarray, variables["params"]))
        xt = torch.from_numpy(x.reshape(n, -1).copy())
        generator = torch.Generator().manual_seed(0)
        for chunk in torch_chunks:
            contestants[f"torch_{chunk}"] = lambda chunk=chunk: (
                -ref.log_marginal(
                    xt, k, batch_size=batch_size, max_samples_per_call=chunk, generator=generator
                ).numpy()
            )

    machine = bm.machine_info()
    rounds = _timed_rounds(contestants, args.rounds)
    report: dict = {
        "command": "python scripts/iwae_benchmark.py " + " ".join(sys.argv[1:]),
        "machine": machine | {"torch_version": torch.__version__ if torch else None},
        "torch_threads": torch.get_num_threads() if torch else None,
        "torch_skipped": skipped,
        "workdir_step": run.step,
        "iwae_k": k,
        "num_test": n,
        "batch_size": batch_size,
        "max_samples_per_call": memory_bound,
        "aejax_samples_per_call": lk.samples_per_call(memory_bound),
        "load_average_1m_end": bm.load_average(),
        "contestants": {},
    }
    for name, r in rounds.items():
        median = statistics.median(r["seconds"])
        value = np.asarray(r["value"], np.float64)
        report["contestants"][name] = {
            "seconds": r["seconds"],
            "warmup_s": r["warmup_s"],
            "median_s": median,
            "examples_per_s": n / median,
            "full_test_set_s_extrapolated": 10_000 * median / n,
            "load_average_1m": r["load_average_1m"],
            "mean_iwae_nll_nats": float(value.mean()),
        }
    report["aejax_compile_s_estimate"] = rounds["aejax"]["warmup_s"] - statistics.median(
        rounds["aejax"]["seconds"]
    )
    if torch is not None:
        best = min(
            (name for name in report["contestants"] if name.startswith("torch_")),
            key=lambda name: report["contestants"][name]["median_s"],
        )
        report["torch_best"] = best
        paired = _paired_ratios(rounds["aejax"]["seconds"], rounds[best]["seconds"])
        report["aejax_over_torch"] = {
            "ratio_of_medians": report["contestants"][best]["median_s"]
            / report["contestants"]["aejax"]["median_s"],
            "paired_per_round": paired,
            "paired_median": statistics.median(paired),
            "target": TARGET,
        }
        d = np.asarray(rounds["aejax"]["value"], np.float64) - np.asarray(
            rounds[best]["value"], np.float64
        )
        report["statistical_agreement"] = {
            "mean_nll_diff_nats": float(d.mean()),
            "standard_error_nats": float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        }
        m = min(args.check_examples, n)
        report["same_z_check"] = _same_z_check(
            ref, torch, lk, model, variables, x[:m], key, args.check_k
        )
    if "aejax_uncapped" in rounds:
        paired = _paired_ratios(rounds["aejax"]["seconds"], rounds["aejax_uncapped"]["seconds"])
        report["aejax_over_uncapped"] = {"paired_median": statistics.median(paired)}
    return report


def print_table(report: dict) -> None:
    print(
        f"IWAE K={report['iwae_k']} on {report['num_test']} test images, "
        f"{report['machine']['cpu_model']} ({report['machine']['num_cores']} cores), "
        f"load average {report['machine']['load_average_1m']:.2f} -> "
        f"{report['load_average_1m_end']:.2f}"
    )
    print(f"{'':16s} {'median s':>9s} {'examples/s':>11s} {'10k images':>11s} {'mean NLL':>9s}")
    for name, c in report["contestants"].items():
        print(
            f"{name:16s} {c['median_s']:9.1f} {c['examples_per_s']:11.2f} "
            f"{c['full_test_set_s_extrapolated'] / 60:9.1f} m {c['mean_iwae_nll_nats']:9.3f}"
        )
    if "aejax_over_torch" in report:
        r = report["aejax_over_torch"]
        print(
            f"aejax / torch ({report['torch_best']}): {r['ratio_of_medians']:.2f}x "
            f"(paired median {r['paired_median']:.2f}x; target {r['target']}x)"
        )
        s, z = report["statistical_agreement"], report["same_z_check"]
        print(
            f"mean NLL difference {s['mean_nll_diff_nats']:+.4f} nats "
            f"(standard error {s['standard_error_nats']:.4f}); same z: max |diff| of log weights "
            f"{z['max_abs_diff_log_weights']:.2e}, of bounds {z['max_abs_diff_bound']:.2e}"
        )
    else:
        print(f"torch skipped: {report['torch_skipped']}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(REPO))
    report = run_benchmark(args)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
