"""The numbers a researcher quotes from ``eval.json``, with units, a one-line definition and the
direction in which each is better.

Every report puts these first; a comparison marks the better value of each row and shows the
differences. Only metrics present in ``eval.json`` are shown, in the order of :data:`HEADLINE`.
The direction matters: a lower NLL is better, a higher clustering accuracy is better, and KL,
active units and I(x; z) have no better direction by themselves (more information in the code is
good for reconstruction and bad for a rate budget), so they are never marked.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from aejax.evaluation.report_doc import Cell

LOWER, HIGHER = "lower", "higher"
NEITHER = "-"  # shown but never marked


@dataclasses.dataclass(frozen=True)
class Metric:
    """``path``: dotted keys into ``eval.json``; ``label`` may use ``{iwae_k}``,
    ``{held_out}``, ``{latent_dim}`` and ``{protocol}`` (of the disentanglement metrics);
    ``spread``: dotted path of a std shown as ``±``."""

    path: str
    label: str
    unit: str
    better: str
    definition: str
    spread: str | None = None


_PROBE = "logistic regression trained on 100 labelled examples per class, accuracy on test"
_CLUSTER = "K-means into as many clusters as classes; "
HEADLINE: tuple[Metric, ...] = (
    Metric("test_iwae_nll_nats", "test NLL (IWAE, K={iwae_k})", "nats/example", LOWER,
           "-log p(x) estimated with K importance samples; an upper bound on the true NLL that "
           "tightens as K grows, so compare runs at the same K"),
    Metric("test_bits_per_dim", "test bits/dim", "bits/dim", LOWER,
           "-log2 p(x) (IWAE, else negative ELBO) per pixel and channel; a density on 8-bit "
           "pixels adds log2 256 = 8 (test_bits_per_dim_kind); absent where undefined"),
    Metric("test_neg_elbo_nats", "test negative ELBO", "nats/example", LOWER,
           "reconstruction + KL with one posterior sample; an upper bound on the NLL"),
    Metric("test_recon_nats", "test reconstruction", "nats/example", LOWER,
           "-log p(x|z) for one z ~ q(z|x): the reconstruction term of the ELBO"),
    Metric("test_kl_nats", "test KL(q(z|x) || p(z))", "nats/example", NEITHER,
           "the rate: how much the code says about x; per-dimension bars below"),
    Metric("test_recon_mse", "test reconstruction MSE", "per pixel", LOWER,
           "squared error between x (in [0, 1]) and the decoder mean at z = E[z|x]"),
    Metric("test_active_units", "active units", "of {latent_dim} dims", NEITHER,
           "latent dims whose E[z|x] varies over test images (variance > 0.01); the rest "
           "collapsed to the prior"),
    Metric("collapse.mutual_information_nats", "mutual information I(x; z)", "nats", NEITHER,
           "how much the code tells apart test images; at most ln(number of test images)"),
    Metric("clustering.scores.latent.acc", "clustering ACC on E[z|x]", "fraction", HIGHER,
           _CLUSTER + "accuracy under the best one-to-one cluster-to-class matching"),
    Metric("clustering.scores.pixels.acc", "clustering ACC on pixels (baseline)", "fraction",
           HIGHER, "the same K-means on raw pixels: what the code should beat"),
    Metric("clustering.scores.latent.nmi", "clustering NMI on E[z|x]", "0 to 1", HIGHER,
           _CLUSTER + "normalised mutual information between clusters and labels"),
    Metric("clustering.scores.pixels.nmi", "clustering NMI on pixels (baseline)", "0 to 1",
           HIGHER, "the same on raw pixels"),
    Metric("transfer.probe_accuracy.latent.100", "probe accuracy, 100 labels, on E[z|x]",
           "fraction", HIGHER, _PROBE),
    Metric("transfer.probe_accuracy.pixels.100", "probe accuracy, 100 labels, on pixels "
           "(baseline)", "fraction", HIGHER, "the same probe on raw pixels"),
    Metric("anomaly.scores.neg_elbo.auroc", "anomaly AUROC of -ELBO, class {held_out} held out",
           "0 to 1", HIGHER, "how well the negative ELBO ranks the held-out class above the "
           "trained classes; 0.5 is chance"),
    Metric("anomaly.scores.recon_mse.auroc", "anomaly AUROC of reconstruction MSE", "0 to 1",
           HIGHER, "the same with reconstruction error as the score"),
    Metric("disentanglement.metrics.beta_vae.eval_accuracy", "beta-VAE metric ({protocol})",
           "accuracy", HIGHER,
           "Higgins et al. 2017: which factor was held fixed, from |z1 - z2| averages"),
    Metric("disentanglement.metrics.factor_vae.eval_accuracy", "FactorVAE metric ({protocol})",
           "accuracy", HIGHER,
           "Kim & Mnih 2018: which factor was held fixed, from the least-varying dim"),
    Metric("disentanglement.metrics.mig.mig", "MIG ({protocol})", "0 to 1", HIGHER,
           "mutual information gap: per factor, top-two dims' MI difference over the entropy"),
    Metric("disentanglement.metrics.dci.disentanglement", "DCI disentanglement ({protocol})",
           "0 to 1", HIGHER,
           "Eastwood & Williams 2018: each dim predicts one factor (importance entropy)"),
    Metric("disentanglement.metrics.sap.sap", "SAP ({protocol})", "0 to 1", HIGHER,
           "separated attribute predictability: top-two dims' score gap per factor"),
    Metric("disentanglement.metrics.modularity.modularity", "modularity ({protocol})", "0 to 1",
           HIGHER, "Ridgeway & Zemel 2018: each dim depends on at most one factor"),
    Metric("summary.test_auc.mean", "link prediction AUC (test)", "0 to 1", HIGHER,
           "ROC AUC of held-out edges against as many non-edges; mean ± std over runs",
           spread="summary.test_auc.std"),
    Metric("summary.test_ap.mean", "link prediction AP (test)", "0 to 1", HIGHER,
           "average precision of the same ranking; mean ± std over runs",
           spread="summary.test_ap.std"),
    Metric("summary.cluster_acc.mean", "node clustering ACC", "fraction", HIGHER,
           "K-means on node codes, best cluster-to-class matching; mean ± std over runs",
           spread="summary.cluster_acc.std"),
    Metric("summary.cluster_nmi.mean", "node clustering NMI", "0 to 1", HIGHER,
           "normalised mutual information of the same clusters; mean ± std over runs",
           spread="summary.cluster_nmi.std"),
)  # fmt: skip


def lookup(tree: dict, path: str):
    """``tree["a"]["b"]`` for ``"a.b"``; ``None`` when any key is missing."""
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def number(tree: dict, path: str | None) -> float | None:
    """A finite number at ``path`` (bools and lists are not numbers), else ``None``."""
    v = lookup(tree, path) if path else None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def label(metric: Metric, ev: dict, config: dict) -> str:
    return metric.label.format(
        iwae_k=ev.get("iwae_k", "?"),
        held_out=lookup(ev, "anomaly.held_out_class"),
        latent_dim=lookup(config, "model.latent_dim") or "?",
        # eval.json files written before protocols were named used aejax_v1's estimators
        protocol=lookup(ev, "disentanglement.protocol") or "aejax_v1",
    )


def unit(metric: Metric, config: dict | None = None) -> str:
    """The metric's unit, with the latent size filled in when the config gives it."""
    latent_dim = lookup(config or {}, "model.latent_dim")
    if latent_dim is None:
        return metric.unit.replace("of {latent_dim} dims", "dims")
    return metric.unit.format(latent_dim=latent_dim)


def present(evals: Sequence[dict]) -> list[Metric]:
    """The metrics of :data:`HEADLINE` that at least one of ``evals`` has, in order."""
    return [m for m in HEADLINE if any(number(ev, m.path) is not None for ev in evals)]


def value_text(x: float | None, std: float | None = None) -> str:
    """4 significant digits (integers as integers), ``± std`` when given, ``-`` when missing."""
    if x is None:
        return "-"
    text = str(int(x)) if float(x).is_integer() and abs(x) < 1e6 else f"{x:.4g}"
    return text if std is None else f"{text} ± {std:.2g}"


def best(values: Sequence[float | None], better: str) -> set[int]:
    """Indices of the better value (all ties); empty when there is no direction, fewer than two
    values, or nothing to choose between."""
    xs = [(i, v) for i, v in enumerate(values) if v is not None]
    if better not in (LOWER, HIGHER) or len(xs) < 2 or len({v for _, v in xs}) == 1:
        return set()
    target = (min if better == LOWER else max)(v for _, v in xs)
    return {i for i, v in xs if v == target}


def single_rows(ev: dict, config: dict) -> list[list]:
    """Rows ``[metric, value, unit, better, definition]`` of one run's evaluation."""
    rows = []
    for m in present([ev]):
        value = value_text(number(ev, m.path), number(ev, m.spread))
        rows.append([label(m, ev, config), value, unit(m, config), m.better, m.definition])
    return rows


def compare_rows(evals: Sequence[dict], configs: Sequence[dict]) -> list[list]:
    """Rows ``[metric, unit, better, value per run..., difference to the first run per other
    run...]``; the better value(s) of each row are :class:`Cell`\\ s with ``best=True``."""
    rows = []
    for m in present(evals):
        values = [number(ev, m.path) for ev in evals]
        marked = best(values, m.better)
        cells = [
            Cell(value_text(v, number(ev, m.spread)), best=i in marked)
            for i, (v, ev) in enumerate(zip(values, evals, strict=True))
        ]
        diffs = [
            _signed(v - values[0]) if v is not None and values[0] is not None else "-"
            for v in values[1:]
        ]
        labels = {label(m, ev, cfg) for ev, cfg in zip(evals, configs, strict=True)}
        name = label(m, evals[0], configs[0]) if len(labels) == 1 else " / ".join(sorted(labels))
        rows.append([name, unit(m, configs[0]), m.better, *cells, *diffs])
    return rows


def _signed(d: float) -> str:
    if d == 0:
        return "0"
    return ("+" if d > 0 else "\N{MINUS SIGN}") + f"{abs(d):.4g}"
