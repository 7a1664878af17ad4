"""The evaluation suite of ``scripts/evaluate.py``: each part a function of one :class:`Context`.

A part returns ``(results, plots)``: a JSON-able dict stored under its name in ``eval.json``
(``likelihood`` also keeps the flat ``test_*`` keys) and the PNG files it wrote; a part that
does not apply returns ``{"skipped": reason}`` and the console says ``[part] skipped: reason``.
Every random draw comes from the run's ``eval`` or ``sample`` key folded with a fixed stream
number. How much work each part does comes from :class:`Settings`, filled from an evaluation
profile (:mod:`aejax.evaluation.profiles`) and the command line.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from aejax import paths
from aejax.evaluation import images as grids
from aejax.evaluation import likelihood
from aejax.evaluation.likelihood import has_density, model_fns
from aejax.evaluation.profiles import PROFILES, Profile, profile_iwae_k

PARTS = (
    "likelihood",
    "images",
    "latent",
    "clustering",
    "transfer",
    "robustness",
    "anomaly",
    "collapse",
    "disentanglement",
)
# Streams folded into the run's "eval" key (0 and 1 are IWAE and binarisation, see evaluate.py).
IWAE_STREAM, BINARIZE_STREAM, MI_STREAM, ROBUST_STREAM, FINETUNE_STREAM, INIT_STREAM = range(6)
NUM_RECONSTRUCTIONS = 32
NUM_PRIOR_SAMPLES = 64
NUM_INTERPOLATIONS = 8
FEW_LABELS = (10, 100, None)  # labels per class for the probes; None = all
FINETUNE_LABELS = (10, 100)

log = logging.getLogger("aejax.evaluate")


@dataclasses.dataclass(frozen=True)
class Settings:
    """What each part does (see ``scripts/evaluate.py``); a size of 0 means "all". The defaults
    are the ``paper`` profile's; :func:`settings_for` fills them from a profile and flags."""

    iwae_k: int
    batch_size: int
    max_samples_per_call: int
    splits: tuple[str, ...] = ("test",)
    iwae_num_test: int = 0  # IWAE on the first N examples of each split; the ELBO on all
    num_plot: int = 2000
    tsne_points: int = 1000
    cluster_examples: int = 0
    kmeans_n_init: int = 10
    robust_examples: int = 2000
    transfer_max_train: int = 0
    finetune_steps: int = 300
    disentanglement_num_train: int = 10_000
    disentanglement_num_test: int = 5_000
    # aejax.evaluation.disentanglement.protocols (named here, not imported: that package pulls
    # in scikit-learn); a choice of estimators, not of work, so no profile sets it.
    disentanglement_protocol: str = "aejax_v1"
    progress: bool = True
    profile: str = "paper"

    def record(self) -> dict:
        """The settings as ``eval.json`` records them (without ``progress``)."""
        out = dataclasses.asdict(self)
        out.pop("progress")
        out["splits"] = list(self.splits)
        return out


# Settings a profile chooses (every Profile field but name/description; iwae_k via the cap).
PROFILE_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Settings)
    if f.name
    not in (
        "iwae_k",
        "batch_size",
        "max_samples_per_call",
        "splits",
        "disentanglement_protocol",
        "progress",
        "profile",
    )
)


def settings_for(profile: Profile, config_eval, overrides: dict, **fixed) -> Settings:
    """:class:`Settings` of ``profile`` for a run whose config has ``eval`` = ``config_eval``;
    ``overrides`` (``{field: value}``, from command-line flags) replace single choices;
    ``fixed`` sets the rest (``splits``, ``progress``)."""
    chosen = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    chosen.update(
        iwae_k=profile_iwae_k(profile, config_eval.iwae_k),
        batch_size=int(config_eval.batch_size),
        max_samples_per_call=int(config_eval.max_samples_per_call),
    )
    chosen.update(overrides)
    return Settings(profile=profile.name, **chosen, **fixed)


@dataclasses.dataclass
class Context:
    """One trained run and its data, as the parts need them. Splits load on first use."""

    run: object  # aejax.train.restore.TrainedRun
    workdir: paths.Path
    settings: Settings
    load_split: object  # split name -> ArrayDataset
    _cache: dict = dataclasses.field(default_factory=dict)

    @property
    def model(self):
        return self.run.experiment.model

    @property
    def variables(self):
        return self.run.variables

    @property
    def seed(self) -> int:
        return int(self.run.experiment.seed)

    def key(self, name: str, stream: int) -> jax.Array:
        from aejax.train.rng import named_keys

        return jax.random.fold_in(named_keys(self.seed)[name], stream)

    def split(self, name: str):
        if ("data", name) not in self._cache:
            self._cache[("data", name)] = self.load_split(name)
        return self._cache[("data", name)]

    def inputs(self, name: str) -> np.ndarray:
        """The split's images as the model sees them (dynamic binarisation with a fixed key)."""
        if ("inputs", name) not in self._cache:
            self._cache[("inputs", name)] = likelihood.eval_inputs(
                self.split(name).images,
                self.run.experiment.binarize,
                self.key("eval", BINARIZE_STREAM),
            )
        return self._cache[("inputs", name)]

    def codes(self, name: str) -> dict[str, np.ndarray]:
        """``{"mean": [N, D], ("loc", "log_var" for Gaussian posteriors)}`` of the split."""
        if ("codes", name) not in self._cache:
            self._cache[("codes", name)] = encode_all(
                self.model, self.variables, self.inputs(name), self.settings.batch_size
            )
        return self._cache[("codes", name)]

    @property
    def deterministic(self) -> bool:
        return "log_var" not in self.codes("test")


@functools.lru_cache(maxsize=8)
def _encode_fn(model):
    @jax.jit
    def fn(variables, x):
        encode, _, _ = model_fns(model, variables)
        post = encode(x)
        out = {"mean": post.mean()}
        if has_density(post) and hasattr(post, "log_var"):
            out["loc"], out["log_var"] = post.loc, post.log_var
        return out

    return fn


def encode_all(model, variables, x: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """Posterior statistics of every row of ``x [N, H, W, C]`` in batches, as host arrays."""
    fn = _encode_fn(model)
    parts: dict[str, list] = {}
    for i in range(0, len(x), batch_size):
        for k, v in fn(variables, jnp.asarray(x[i : i + batch_size])).items():
            parts.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in parts.items()}


def representation_fn(model, variables, batch_size: int = 500):
    """``images [N, H, W, C] -> E_q[z|x] [N, D]`` (host arrays), for the disentanglement metrics."""

    def fn(x):
        return encode_all(model, variables, np.asarray(x, np.float32), batch_size)["mean"]

    return fn


class Stages:
    """A part's progress bar on stderr (with an ETA) over its ``total`` stages.

    ``with Stages(ctx, "transfer", 10) as done: ...; done("probe latent 10/class")``: each call
    marks one stage finished and names it. Disabled by ``--progress=false``.
    """

    def __init__(self, ctx: Context, name: str, total: int):
        self.bar = tqdm(
            total=total, desc=name, unit="stage", file=sys.stderr, disable=not ctx.settings.progress
        )

    def __enter__(self):
        return self

    def __call__(self, label: str = "") -> None:
        self.bar.update(1)
        self.bar.set_postfix_str(label, refresh=True)

    def __exit__(self, *exc):
        self.bar.close()


# ----------------------------------------------------------------------------------- parts


def part_likelihood(ctx: Context):
    s = ctx.settings
    iwae_k = 0 if ctx.deterministic else s.iwae_k
    flat, notes = {}, []
    if ctx.deterministic:
        notes.append(
            "deterministic autoencoder (Delta posterior, no density): ELBO, IWAE and "
            "bits/dim are not defined; reconstruction metrics only"
        )
    for split in s.splits:
        start = time.perf_counter()
        metrics = likelihood.evaluate_split(
            ctx.model,
            ctx.variables,
            ctx.inputs(split),
            ctx.key("eval", IWAE_STREAM),
            iwae_k=iwae_k,
            iwae_num_examples=s.iwae_num_test or None,
            batch_size=s.batch_size,
            max_samples_per_call=s.max_samples_per_call,
            progress=s.progress,
        )
        metrics["wall_time_s"] = time.perf_counter() - start
        for name, value in metrics.items():
            flat[f"{split}_{name}"] = value
        summary = ", ".join(
            f"{n} {metrics[n]:.4g}"
            for n in ("iwae_nll_nats", "neg_elbo_nats", "recon_nats", "recon_mse", "bits_per_dim")
            if n in metrics
        )
        iwae_on = ""
        if iwae_k and metrics["iwae_num_examples"] < metrics["num_examples"]:
            iwae_on = f" (IWAE on the first {metrics['iwae_num_examples']})"
        print(
            f"{split}: {metrics['num_examples']} examples, K={iwae_k}{iwae_on}: {summary}",
            flush=True,
        )
        if metrics["bits_per_dim_kind"] is None and not ctx.deterministic:
            notes.append(f"{split}: no bits/dim: {metrics['bits_per_dim_reason']}")
        if iwae_k and metrics["iwae_num_examples"] < metrics["num_examples"]:
            notes.append(
                f"{split}: IWAE (K={iwae_k}) on the first {metrics['iwae_num_examples']} of "
                f"{metrics['num_examples']} examples (compare it with "
                f"{split}_neg_elbo_nats_on_iwae_examples); bits/dim from the negative ELBO of all"
            )
    flat["iwae_k"] = iwae_k
    if ctx.run.experiment.binarize == "dynamic":
        notes.append("images binarised once with a fixed per-example key (epoch 0)")
    return {"flat": flat, "notes": notes}, []


def part_images(ctx: Context):
    model, variables, wd = ctx.model, ctx.variables, ctx.workdir
    x = ctx.inputs("test")
    with Stages(ctx, "images", 4) as done:
        plots = [
            grids.reconstruction_grid(
                model, variables, x[:NUM_RECONSTRUCTIONS], wd / "reconstructions.png"
            )
        ]
        done("reconstructions")
        plots.append(
            grids.prior_samples_grid(
                model,
                variables,
                ctx.key("sample", 0),
                wd / "prior_samples.png",
                num=NUM_PRIOR_SAMPLES,
            )
        )
        done("prior samples")
        n = min(NUM_INTERPOLATIONS, len(x) // 2)
        if n:
            pairs = np.stack([x[:n], x[n : 2 * n]], axis=1)
            plots.append(
                grids.interpolation_grid(model, variables, pairs, wd / "interpolations.png")
            )
        done("interpolations")
        codes = ctx.codes("test")
        scores, ordered_by = np.var(codes["mean"], axis=0), "variance of E[z|x]"
        if "loc" in codes:
            scores = 0.5 * (np.exp(codes["log_var"]) + codes["loc"] ** 2 - 1 - codes["log_var"])
            scores, ordered_by = scores.mean(0), "mean KL per dim (nats)"
        plots.append(
            grids.latent_traversals(
                model, variables, x[0], wd / "latent_traversals.png", dim_scores=scores.tolist()
            )
        )
        done("latent traversals")
    return {"traversal_order": ordered_by}, plots


def _colour(ctx: Context, n: int):
    ds = ctx.split("test")
    if ds.labels is not None:
        return ds.labels[:n], "label"
    if ds.factors is not None:
        return ds.factors[:n, 0], f"factor {ds.info.factor_names[0]}"
    return np.zeros(n, np.int32), "none"


def part_latent(ctx: Context):
    from aejax.evaluation import latent_plots

    s = ctx.settings
    codes = ctx.codes("test")["mean"]
    n = min(s.num_plot or len(codes), len(codes))
    colour, legend = _colour(ctx, n)
    m = min(s.tsne_points, n)
    with Stages(ctx, "latent", 2 if m >= 5 else 1) as done:
        plots = latent_plots.latent_scatter_plots(
            codes[:n], colour, ctx.workdir, legend=legend, seed=ctx.seed, methods=("pca",)
        )
        done(f"PCA of {n}")
        if m >= 5:
            plots += latent_plots.latent_scatter_plots(
                codes[:m], colour[:m], ctx.workdir, legend=legend, seed=ctx.seed, methods=("tsne",)
            )
            done(f"t-SNE of {m}")
    return {"pca_points": n, "tsne_points": m if m >= 5 else 0, "coloured_by": legend}, plots


def _labels(ctx: Context, split: str):
    ds = ctx.split(split)
    return ds.labels, ds.info.num_classes


def part_clustering(ctx: Context):
    from aejax.evaluation import clustering

    s = ctx.settings
    labels, k = _labels(ctx, "test")
    if labels is None:
        return {"skipped": "the dataset has no labels"}, []
    n = min(s.cluster_examples or len(labels), len(labels))
    labels = labels[:n]
    k = int(k or len(np.unique(labels)))
    with Stages(ctx, "clustering", 3) as done:
        table = clustering.clustering_table(
            ctx.codes("test")["mean"][:n],
            ctx.inputs("test")[:n],
            labels,
            num_clusters=k,
            seed=ctx.seed,
            n_init=s.kmeans_n_init,
            on_done=done,
        )
    return {
        "num_clusters": k,
        "num_examples": int(n),
        "split": "test",
        "features": (
            f"K-means (scikit-learn, n_init={s.kmeans_n_init}) on E[z|x], raw pixels, PCA of "
            f"pixels; the first {n} test examples"
        ),
        "scores": table,
    }, []


def _train_codes(ctx: Context, idx: np.ndarray) -> np.ndarray:
    """``E[z|x]`` of the training examples ``idx`` (only those are encoded), cached."""
    key = ("train_codes", idx.tobytes())
    if key not in ctx._cache:
        x = ctx.inputs("train")[idx]
        ctx._cache[key] = encode_all(ctx.model, ctx.variables, x, ctx.settings.batch_size)["mean"]
    return ctx._cache[key]


def _train_subset(ctx: Context) -> np.ndarray:
    n = len(ctx.split("train"))
    cap = ctx.settings.transfer_max_train
    if cap and cap < n:
        return np.sort(np.random.default_rng(ctx.seed).choice(n, cap, replace=False))
    return np.arange(n)


def part_transfer(ctx: Context):
    from aejax.evaluation import transfer

    train_y, k = _labels(ctx, "train")
    test_y, _ = _labels(ctx, "test")
    if train_y is None or test_y is None:
        return {"skipped": "the dataset has no labels"}, []
    idx = _train_subset(ctx)
    train_x, train_y = ctx.inputs("train")[idx], train_y[idx]
    test_x = ctx.inputs("test")
    settings = transfer.FinetuneSettings(steps=ctx.settings.finetune_steps)
    stages = 2 * len(FEW_LABELS) + 2 * len(FINETUNE_LABELS) + 1
    with Stages(ctx, "transfer", stages) as done:
        train_codes = _train_codes(ctx, idx)
        done("encoded the training set")
        probes = transfer.probe_table(
            train_codes,
            train_x,
            train_y,
            ctx.codes("test")["mean"],
            test_x,
            test_y,
            per_class=FEW_LABELS,
            seed=ctx.seed,
            on_done=done,
        )
        init = ctx.model.init(ctx.key("eval", INIT_STREAM), jnp.asarray(test_x[:1]))
        finetune = transfer.finetune_table(
            ctx.model,
            ctx.variables,
            init,
            train_x,
            train_y,
            test_x,
            test_y,
            per_class=FINETUNE_LABELS,
            num_classes=int(k or test_y.max() + 1),
            seed=ctx.seed,
            key=ctx.key("eval", FINETUNE_STREAM),
            settings=settings,
            on_done=done,
        )
    return {
        "train_examples": int(len(idx)),
        "test_examples": int(len(test_y)),
        "probe": "logistic regression on standardised features (scikit-learn)",
        "probe_accuracy": probes,
        "finetune": (
            f"encoder + linear head on E[z|x], Adam 1e-3, {settings.steps} steps of "
            f"{settings.batch_size}; pretrained vs fresh init"
        ),
        "finetune_accuracy": finetune,
    }, []


def part_robustness(ctx: Context):
    from aejax.evaluation import robustness, transfer

    model, variables = ctx.model, ctx.variables
    encode, decode, _ = model_fns(model, variables)
    encode_mean = jax.jit(lambda x: encode(x).mean())
    reconstruct = jax.jit(lambda x: decode(encode(x).mean()).mean())
    n = min(ctx.settings.robust_examples or len(ctx.split("test")), len(ctx.split("test")))
    x = ctx.inputs("test")[:n]
    test_y, _ = _labels(ctx, "test")
    probe = None
    if test_y is not None and ctx.split("train").labels is not None:
        idx = _train_subset(ctx)
        probe = transfer.fit_probe(_train_codes(ctx, idx), ctx.split("train").labels[idx])
    with Stages(ctx, "robustness", robustness.num_points()) as done:
        curves = robustness.robustness_curves(
            x,
            None if test_y is None else test_y[:n],
            encode_mean,
            reconstruct,
            probe,
            ctx.key("eval", ROBUST_STREAM),
            on_done=done,
        )
    path = ctx.workdir / "robustness.png"
    robustness.plot_curves(curves, path)
    return {"num_examples": n, "curves": curves}, [path]


def part_anomaly(ctx: Context):
    from aejax.evaluation import anomaly

    held_out = int(ctx.run.config.data.exclude_class)
    if held_out < 0:
        return {
            "skipped": "the run holds no class out of training (train with "
            "--config.data.exclude_class=C to score finding class C)"
        }, []
    labels, _ = _labels(ctx, "test")
    per_example = likelihood.per_example_metrics(
        ctx.model,
        ctx.variables,
        ctx.inputs("test"),
        ctx.key("eval", IWAE_STREAM),
        batch_size=ctx.settings.batch_size,
        progress=ctx.settings.progress,
        desc="anomaly",
    )
    scores = {"recon_mse": per_example["recon_mse"]}
    if "neg_elbo_nats" in per_example:
        scores["neg_elbo"] = per_example["neg_elbo_nats"]
    else:
        scores["recon_nats"] = per_example["recon_nats"]
    return {
        "held_out_class": held_out,
        "scores": anomaly.anomaly_table(labels, held_out, scores),
    }, []


def part_collapse(ctx: Context):
    from aejax.evaluation import collapse

    codes = ctx.codes("test")
    out = {
        "active_units": likelihood.active_units(codes["mean"]),
        "posterior_mean_var": np.var(codes["mean"].astype(np.float64), axis=0).tolist(),
    }
    if "loc" in codes:
        kl = 0.5 * (np.exp(codes["log_var"]) + codes["loc"] ** 2 - 1 - codes["log_var"])
        out["kl_per_dim"] = kl.astype(np.float64).mean(0).tolist()
        out["mutual_information_nats"] = collapse.mutual_information(
            codes["loc"],
            codes["log_var"],
            ctx.key("eval", MI_STREAM),
            progress=ctx.settings.progress,
        )
        out["mutual_information_max_nats"] = float(np.log(len(codes["loc"])))
        out["mutual_information_estimator"] = (
            "He et al. 2019 (Lagging Inference Networks) calc_mi: E[log q(z|x)] - E[log q(z)], "
            "q(z) the mixture over all test examples, one z per x (Hoffman & Johnson 2016)"
        )
    return out, []


def part_disentanglement(ctx: Context):
    ds = ctx.split("test")
    s = ctx.settings
    if not ds.info.factor_names:
        return {"skipped": "the data has no ground-truth factors"}, []
    try:
        from aejax.evaluation import disentanglement
    except ImportError as e:
        log.warning("disentanglement metrics skipped: %s", e)
        return {"skipped": f"aejax.evaluation.disentanglement is not available: {e}"}, []
    protocol = disentanglement.get_protocol(
        s.disentanglement_protocol,
        num_train=s.disentanglement_num_train,
        num_test=s.disentanglement_num_test,
    )
    res = disentanglement.compute_all(
        representation_fn(ctx.model, ctx.variables, s.batch_size),
        resolution=int(ds.info.shape[0]),
        seed=ctx.seed,
        protocol=protocol,
        progress=s.progress,
    )
    out = {
        "protocol": protocol.name,
        "protocol_settings": protocol.record(),
        "num_train": protocol.num_train,
        "num_test": protocol.num_test,
        "metrics": res,
    }
    asked = (s.disentanglement_num_train, s.disentanglement_num_test)
    if protocol.fixed_sizes and asked != (protocol.num_train, protocol.num_test):
        out["notes"] = [
            f"the {protocol.name} protocol fixes its sample sizes ({protocol.num_train} / "
            f"{protocol.num_test} combinations); the settings' {asked[0]} / {asked[1]} do not "
            "apply"
        ]
    return out, []


PART_FNS = {name: globals()[f"part_{name}"] for name in PARTS}


def parse_suite(text: str) -> tuple[str, ...]:
    """``"all"`` or a comma-separated subset of :data:`PARTS`, in the order of :data:`PARTS`."""
    from aejax.errors import ConfigError

    names = {t.strip() for t in text.split(",") if t.strip()}
    if names == {"all"}:
        return PARTS
    unknown = sorted(names - set(PARTS))
    if unknown or not names:
        raise ConfigError(
            f"--suite={text!r}: unknown part(s) {', '.join(unknown) or '(none given)'}; "
            f"choose all or a comma-separated list of {', '.join(PARTS)}"
        )
    return tuple(p for p in PARTS if p in names)


def run_suite(
    ctx: Context, parts: tuple[str, ...], result: dict, overridden: tuple[str, ...] = ()
) -> tuple[dict, list]:
    """Runs ``parts`` in order, updating ``result`` (the loaded ``eval.json``) in place.

    ``result["profile"]`` records this run's profile, every setting and which of them came from
    flags (``overridden``); ``result["parts"]`` says, per part, whether it ran or was skipped
    (and why) and under which profile (parts of earlier runs keep their entries).
    """
    written = []
    timings = result.setdefault("wall_time_s", {})
    # CPU seconds of this process (all threads): a load-independent measure on a shared machine.
    cpu = result.setdefault("cpu_time_s", {})
    status = result.setdefault("parts", {})
    plots = set(result.get("plots", []))
    profile = PROFILES.get(ctx.settings.profile)
    result["profile"] = {
        "name": ctx.settings.profile,
        "description": profile.description if profile else "",
        "settings": ctx.settings.record(),
        "overridden": sorted(overridden),
    }
    for name in parts:
        start, cpu_start = time.perf_counter(), time.process_time()
        print(f"[{name}] ...", flush=True)
        out, files = PART_FNS[name](ctx)
        timings[name] = round(time.perf_counter() - start, 2)
        cpu[name] = round(time.process_time() - cpu_start, 2)
        if name == "likelihood":  # a split evaluated again replaces all its flat keys
            stale = tuple(f"{split}_" for split in ctx.settings.splits)
            for key in [k for k in result if k.startswith(stale)]:
                del result[key]
            result.update(out.pop("flat"))
        result[name] = out
        plots |= {os.path.basename(os.fspath(p)) for p in files}
        written += files
        if "skipped" in out:
            status[name] = {"ran": False, "skipped": out["skipped"]}
            print(f"[{name}] skipped: {out['skipped']}", flush=True)
        else:
            status[name] = {"ran": True}
            print(f"[{name}] done in {timings[name]:.1f} s ({cpu[name]:.1f} CPU s)", flush=True)
        status[name]["profile"] = ctx.settings.profile
    result["plots"] = sorted(plots)
    return result, written
