"""What every evaluation part shares: :class:`Settings` (how much work), :class:`Context` (one
trained run and its data, loaded and encoded once), :class:`Stages` (a progress bar) and the
fixed key streams.

Every random draw comes from the run's ``eval`` or ``sample`` key folded with a fixed stream
number (:meth:`Context.key`), so an evaluation never depends on what ran before it.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from aejax import paths
from aejax.evaluation import likelihood
from aejax.evaluation.likelihood import has_density, model_fns
from aejax.evaluation.profiles import Profile, profile_iwae_k

# Streams folded into the run's "eval" key (0 and 1 are IWAE and binarisation, see evaluate.py).
IWAE_STREAM, BINARIZE_STREAM, MI_STREAM, ROBUST_STREAM, FINETUNE_STREAM, INIT_STREAM = range(6)


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
    quiet: bool = False  # no console lines from the parts (periodic evaluation in training)
    profile: str = "paper"

    def record(self) -> dict:
        """The settings as ``eval.json`` records them (without ``progress``)."""
        out = dataclasses.asdict(self)
        out.pop("progress")
        out.pop("quiet")
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
        "quiet",
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

    def for_run(self, run) -> Context:
        """This context for another state of the same run: splits and inputs are kept, codes
        (which depend on the parameters) are not."""
        keep = {k: v for k, v in self._cache.items() if k[0] in ("data", "inputs")}
        return dataclasses.replace(self, run=run, _cache=keep)

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
        """True for a posterior without a density (the run's codes have no ``log_var``); read
        from the encoder's output structure, without encoding the split."""
        x = jax.ShapeDtypeStruct((1, *self.inputs("test").shape[1:]), jnp.float32)
        return "log_var" not in jax.eval_shape(_encode_fn(self.model), self.variables, x)


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


def labels_of(ctx: Context, split: str):
    """``(labels int[N] or None, number of classes)`` of ``split``."""
    ds = ctx.split(split)
    return ds.labels, ds.info.num_classes


def train_codes(ctx: Context, idx: np.ndarray) -> np.ndarray:
    """``E[z|x]`` of the training examples ``idx`` (only those are encoded), cached."""
    key = ("train_codes", idx.tobytes())
    if key not in ctx._cache:
        x = ctx.inputs("train")[idx]
        ctx._cache[key] = encode_all(ctx.model, ctx.variables, x, ctx.settings.batch_size)["mean"]
    return ctx._cache[key]


def train_subset(ctx: Context) -> np.ndarray:
    """The training examples the probes use (``transfer_max_train`` of them, from the seed)."""
    n = len(ctx.split("train"))
    cap = ctx.settings.transfer_max_train
    if cap and cap < n:
        return np.sort(np.random.default_rng(ctx.seed).choice(n, cap, replace=False))
    return np.arange(n)


class Evaluator(NamedTuple):
    """One part of the evaluation: what ``scripts/evaluate.py`` and the train loop run.

    Attributes:
      name: the part's name (``--suite``, ``evals.periodic``, its section of ``eval.json``).
      run: ``run(ctx) -> (results, plots)``: a JSON-able dict (``{"skipped": reason}`` when the
        part does not apply) and the files it wrote.
      scalars: ``scalars(results, splits) -> {"<split>/<metric>": float}``, the numbers logged
        when the part runs during training; ``None`` for a part that only runs after training.
      lower_is_better: metric names (without the split) ``evals.keep_best`` may name, all
        minimised.
    """

    name: str
    run: Callable[[Context], tuple[dict, list]]
    scalars: Callable[[dict, tuple[str, ...]], dict[str, float]] | None = None
    lower_is_better: tuple[str, ...] = ()
