"""``evaluate_graph(workdir)``: link prediction and clustering for every run of a graph workdir.

Writes ``WORKDIR/eval.json``: per run the test (and validation) AUC/AP and the clustering
ACC/NMI of the posterior means, and their mean and standard deviation over runs (population
std, ``ddof=0``), beside Kipf & Welling's published numbers when the setting has one.
"""

from __future__ import annotations

import json

import jax
import numpy as np

from aejax import paths
from aejax.graph import evaluation
from aejax.graph.train import load_run_params
from aejax.train.restore import load_config
from aejax.train.run import make_run

METRICS = ("test_auc", "test_ap", "val_auc", "val_ap", "cluster_acc", "cluster_nmi")


def evaluate_graph(workdir: paths.PathLike) -> dict:
    """Scores every run in ``workdir``; returns (and writes to ``eval.json``) the results."""
    workdir = paths.resolve(workdir)
    run = make_run(load_config(workdir))
    exp, graph = run.experiment, run.train_ds
    apply_fn = jax.jit(exp.model.apply)
    runs = []
    for r in range(run.replicas):
        replica = run.replica(r)
        split, batch = replica.data.split, replica.data.inputs
        params = load_run_params(workdir, replica, r)
        z = np.asarray(apply_fn({"params": params}, batch.get("features"), batch["graph"]))
        row = {"run": r, "seed": exp.seed + r}
        parts = (("test", split.test, split.test_neg), ("val", split.val, split.val_neg))
        for part, pos, neg in parts:
            if len(pos):
                row.update({f"{part}_{k}": v for k, v in evaluation.auc_ap(z, pos, neg).items()})
        if exp.cluster:
            row.update(evaluation.node_clustering(z, graph.labels, graph.num_classes, exp.seed + r))
        runs.append(row)
    method = "vgae" if exp.model.variational else "gae"
    summary = {}
    for name in METRICS:
        values = [row[name] for row in runs if name in row]
        if values:
            summary[name] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
    has_features = graph.features is not None
    table = evaluation.PUBLISHED if has_features else evaluation.PUBLISHED_FEATURELESS
    published = table.get((method, graph.name))
    result = {
        "method": method,
        "dataset": graph.name,
        "num_nodes": graph.num_nodes,
        "num_edges": len(graph.edges),
        "features": has_features,
        "negatives": exp.negatives,
        "num_runs": exp.num_runs,
        "step": exp.num_steps,
        "summary": summary,
        "published_test_auc_ap": list(published) if published else None,
        "runs": runs,
    }
    paths.write_text(workdir / "eval.json", json.dumps(result, indent=2) + "\n")
    return result


def describe(result: dict) -> str:
    """One line: test AUC/AP (percent, mean +- std) beside the published figures, clustering."""
    s = result["summary"]

    def pct(name: str) -> str:
        return f"{100 * s[name]['mean']:.1f} +- {100 * s[name]['std']:.1f}" if name in s else "n/a"

    pub = result["published_test_auc_ap"]
    published = f" (published {pub[0]} / {pub[1]})" if pub else ""
    clusters = (
        f"; clustering ACC {pct('cluster_acc')}, NMI {pct('cluster_nmi')}"
        if "cluster_acc" in s
        else ""
    )
    return (
        f"{result['method']} {result['dataset']}, {result['num_runs']} runs: test AUC "
        f"{pct('test_auc')}, AP {pct('test_ap')}{published}{clusters}"
    )
