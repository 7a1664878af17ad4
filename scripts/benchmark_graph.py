"""Time per epoch of aejax's graph autoencoder against PyTorch Geometric's example, paired.

  python scripts/benchmark_graph.py [--dataset cora] [--method vgae] [--epochs 200]
      [--rounds 5] [--out docs/graph_benchmark_cpu_{method}.json] [--no-pyg]

Both train the same split of the same graph (aejax's seed-0 85/5/10 split) with the same loss
family: aejax's ``experiments/<method>_<dataset>.py:sampled`` (one drawn non-edge per target
one) and ``benchmarks/pyg_reference.py`` (the example's ``recon_loss``: one negative per
training edge). ``--epochs`` epochs each, in ``--rounds`` alternating blocks (aejax block, PyG
block, ...) so both see the same machine conditions; compilation (aejax) and the first epoch
(PyG) are left out. Also times a few epochs of aejax's dense loss, and scores both trained
models' test AUC. Writes a JSON report and prints a table; compare medians, on one machine only.
torch and torch_geometric come from ``requirements-benchmark.txt`` (never library dependencies).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import platform
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DENSE_EPOCHS = 10


def _experiment(name: str, variant: str | None):
    path = REPO / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REPO))
    spec.loader.exec_module(module)
    config = module.get_config(variant)
    config.train.progress = False
    return config


class _Aejax:
    """One replica of the graph run, stepped as ``aejax.graph.train`` steps it."""

    def __init__(self, config):
        from aejax.train.run import make_run

        self.replica = make_run(config).replica(0)
        self.state = self.replica.state
        self.epoch()  # compiles

    def epoch(self) -> float:
        import jax

        start = time.perf_counter()
        self.state, metrics = self.replica.chunk(self.state, 1)
        jax.device_get(metrics)
        return time.perf_counter() - start

    def test_auc(self) -> float:
        import jax
        import numpy as np

        from aejax.graph import evaluation

        inputs, split = self.replica.data.inputs, self.replica.data.split
        z = jax.jit(self.replica.experiment.model.apply)(
            {"params": self.state.params}, inputs.get("features"), inputs["graph"]
        )
        return evaluation.auc_ap(np.asarray(z), split.test, split.test_neg)["auc"]


def _median_ms(seconds: list[float]) -> float:
    import numpy as np

    return float(np.median(seconds) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cora", choices=("cora", "citeseer"))
    parser.add_argument("--method", default="vgae", choices=("gae", "vgae"))
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="docs/graph_benchmark_cpu_{method}.json")
    parser.add_argument("--no-pyg", action="store_true", help="time aejax alone")
    args = parser.parse_args()
    os.environ.setdefault("AEJAX_DATA_DIR", str(REPO.parent / "shared" / "data"))

    import jax

    name = f"{args.method}_{args.dataset}"
    ours = _Aejax(_experiment(name, "sampled"))
    graph, split = ours.replica.train_ds, ours.replica.data.split
    pyg = None
    if not args.no_pyg:
        import torch
        import torch_geometric

        sys.path.insert(0, str(REPO / "benchmarks"))
        from pyg_reference import PygReference

        torch.set_num_threads(os.cpu_count() or 1)
        pyg = PygReference(graph.features, split.train, args.method == "vgae")
        pyg.train_epoch()  # the first epoch allocates; left out like aejax's compilation
    times = {"aejax": [], "pyg": []}
    per_round = args.epochs // args.rounds
    for _ in range(args.rounds):
        times["aejax"] += [ours.epoch() for _ in range(per_round)]
        if pyg is not None:
            times["pyg"] += [pyg.train_epoch() for _ in range(per_round)]
    dense = _Aejax(_experiment(name, None))
    dense_times = [dense.epoch() for _ in range(DENSE_EPOCHS)]
    report = {
        "command": "python " + " ".join([f"scripts/{pathlib.Path(__file__).name}", *sys.argv[1:]]),
        "experiment": f"{name}:sampled",
        "epochs_each": per_round * args.rounds,
        "rounds": args.rounds,
        "aejax_sampled_ms_per_epoch": _median_ms(times["aejax"]),
        "aejax_dense_ms_per_epoch": _median_ms(dense_times),
        "aejax_test_auc": ours.test_auc(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{jax.default_backend()}",
        "load_average": os.getloadavg(),
        "versions": {"jax": jax.__version__},
        "epoch_seconds": times,
    }
    if pyg is not None:
        report |= {
            "pyg_ms_per_epoch": _median_ms(times["pyg"]),
            "pyg_test_auc": pyg.test_auc(split.test, split.test_neg),
            "pyg_over_aejax": _median_ms(times["pyg"]) / _median_ms(times["aejax"]),
        }
        report["versions"] |= {
            "torch": torch.__version__,
            "torch_geometric": torch_geometric.__version__,
        }
    out = pathlib.Path(args.out.format(method=args.method))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{name} on {report['machine']}, load {report['load_average'][0]:.1f}:")
    print(
        f"  aejax sampled {report['aejax_sampled_ms_per_epoch']:.2f} ms/epoch, dense "
        f"{report['aejax_dense_ms_per_epoch']:.2f} ms/epoch, "
        f"test AUC {report['aejax_test_auc']:.3f}"
    )
    if pyg is not None:
        print(
            f"  PyG example  {report['pyg_ms_per_epoch']:.2f} ms/epoch, test AUC "
            f"{report['pyg_test_auc']:.3f}; PyG / aejax = {report['pyg_over_aejax']:.2f}x"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
