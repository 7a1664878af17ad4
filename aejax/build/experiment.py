"""A config as one :class:`Experiment`: model, objective, direction, hparams, loop settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import optax

from aejax import config_keys, models
from aejax.build.checks import choice, get, positive
from aejax.build.model import build_model
from aejax.build.objective import EXTRA_TERMS, OBJECTIVES, build_objective, build_streams
from aejax.build.optimizer import build_direction, build_player_direction, per_player
from aejax.errors import ConfigError
from aejax.types import Player, Stream

ON_NONFINITE = ("stop", "skip")
MATMUL_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Loop settings, resolved (``num_steps`` already computed from epochs when given so)."""

    batch_size: int
    num_steps: int
    steps_per_epoch: int
    log_every: int
    checkpoint_every: int
    keep_checkpoints: int
    steps_per_call: int
    on_nonfinite: str
    progress: bool
    log_example_ids: bool = False  # write examples.jsonl (the example ids of every step)
    debug_checks: bool = False  # run the step under checkify float checks
    data_parallel: bool = True  # split each batch over jax.devices() when there are several
    shard_params: bool = False  # also split large parameters over the devices
    scan_unroll: int = 1  # steps unrolled per loop iteration of a chunk (conv models: >1)


@dataclasses.dataclass(frozen=True)
class DataFacts:
    """What evaluation needs to know of the data a run was trained on."""

    name: str = ""  # data.name, e.g. "mnist"
    exclude_class: int = -1  # the class held out of training (anomaly detection); -1: none


@dataclasses.dataclass(frozen=True)
class EvalDefaults:
    """A run's own evaluation settings (``config.eval``), the ones flags of ``evaluate.py``
    replace."""

    iwae_k: int = 5000  # importance samples of the IWAE bound
    batch_size: int = 500  # test examples per evaluation batch
    max_samples_per_call: int = 100_000  # bound on examples x importance samples at once


@dataclasses.dataclass(frozen=True)
class Experiment:
    """What a config describes, as objects: model, objective, update direction, hparams, and
    the facts evaluation reads (so that nothing above this package reads the config)."""

    model: models.AutoEncoder
    objective: Callable
    tx: optax.GradientTransformation
    hparams: Mapping[str, float]
    train: TrainSettings
    binarize: str
    seed: int
    players: tuple[Player, ...] = ()  # extra players besides the main model (see aejax.types)
    streams: tuple[Stream, ...] = ()  # extra batch streams
    data: DataFacts = DataFacts()
    eval: EvalDefaults = EvalDefaults()
    deterministic: bool = False  # no density: a Delta posterior or the reconstruction objective
    classifier_hidden: tuple[int, ...] = ()  # model.classifier.hidden; () when it has none


def resolve_train(config: ml_collections.ConfigDict, num_examples: int) -> TrainSettings:
    t = config.train
    batch_size = int(positive(t.batch_size, "train.batch_size"))
    if batch_size > num_examples:
        raise ConfigError(
            f"train.batch_size={batch_size} exceeds the {num_examples} training examples"
        )
    steps_per_epoch = num_examples // batch_size
    positive(t.num_steps, "train.num_steps", allow_zero=True)
    positive(t.num_epochs, "train.num_epochs", allow_zero=True)
    if bool(t.num_steps) == bool(t.num_epochs):
        raise ConfigError(
            "give exactly one of train.num_steps and train.num_epochs (the other 0); got "
            f"num_steps={t.num_steps}, num_epochs={t.num_epochs}"
        )
    num_steps = int(t.num_steps) if t.num_steps else int(round(t.num_epochs * steps_per_epoch))
    return TrainSettings(
        batch_size=batch_size,
        num_steps=num_steps,
        steps_per_epoch=steps_per_epoch,
        log_every=int(positive(t.log_every, "train.log_every")),
        checkpoint_every=int(positive(t.checkpoint_every, "train.checkpoint_every")),
        keep_checkpoints=int(positive(t.keep_checkpoints, "train.keep_checkpoints")),
        steps_per_call=int(positive(t.steps_per_call, "train.steps_per_call")),
        on_nonfinite=choice(t.on_nonfinite, ON_NONFINITE, "train.on_nonfinite"),
        progress=bool(t.progress),
        log_example_ids=bool(t.log_example_ids),
        debug_checks=bool(t.debug_checks),
        data_parallel=bool(t.get("data_parallel", True)),
        shard_params=bool(t.get("shard_params", False)),
        scan_unroll=int(positive(t.get("scan_unroll", 1), "train.scan_unroll")),
    )


def build_experiment(
    config: ml_collections.ConfigDict, image_shape: tuple[int, ...], num_examples: int
) -> Experiment:
    """Everything training needs besides the data arrays."""
    config = config_keys.translated(config)
    if not isinstance(config.seed, int) or config.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {config.seed!r}")
    train = resolve_train(config, num_examples)
    objective, hparams = build_objective(config, num_examples)
    hparams = {"learning_rate": float(config.optimizer.learning_rate), **hparams}
    spec = OBJECTIVES[config.objective.name]
    tx = build_direction(config, train.num_steps, train.steps_per_epoch)
    if spec.players:
        tx = per_player(tx, {p.name: build_player_direction(config, p) for p in spec.players})
        for p in spec.players:
            hparams[p.lr_key] = float(get(config, p.optimizer).learning_rate)
    else:
        # One optimizer update over a single flat vector instead of one per parameter leaf
        # (fewer, larger fused loops; the gain: docs/performance.md).
        tx = optax.flatten(tx)
    networks = spec.networks + tuple(p.name for p in spec.players if p.name not in spec.networks)
    return Experiment(
        model=build_model(config, image_shape, networks),
        objective=objective,
        tx=tx,
        hparams=hparams,
        train=train,
        binarize=config.data.binarize,
        seed=int(config.seed),
        players=spec.players,
        streams=build_streams(config),
        data=DataFacts(name=str(config.data.name), exclude_class=int(config.data.exclude_class)),
        eval=build_eval_defaults(config),
        deterministic=spec.reconstruction_only or config.model.posterior == "delta",
        classifier_hidden=tuple(  # dropped by settle_config when the method has none
            int(w) for w in config.model.get("classifier", {}).get("hidden", ())
        ),
    )


def build_eval_defaults(config: ml_collections.ConfigDict) -> EvalDefaults:
    """``config.eval``, checked: positive sizes, ``iwae_k >= 0``."""
    e = config.eval
    return EvalDefaults(
        iwae_k=int(positive(e.iwae_k, "eval.iwae_k", allow_zero=True)),
        batch_size=int(positive(e.batch_size, "eval.batch_size")),
        max_samples_per_call=int(positive(e.max_samples_per_call, "eval.max_samples_per_call")),
    )


def hparams_as_arrays(hparams: Mapping[str, float]) -> dict[str, jnp.ndarray]:
    """float32 scalar arrays, so changing a value never recompiles the step."""
    return {k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()}


def hparam_config_keys(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """Config keys whose values reach the step only through ``hparams`` (so members of a sweep
    that differ only in these share one compiled step)."""
    config = config_keys.translated(config)
    name = choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    players = {p for spec in OBJECTIVES.values() for p in spec.players}
    keys = ["optimizer.learning_rate", *sorted(f"{p.optimizer}.learning_rate" for p in players)]
    spec = OBJECTIVES[name]
    keys += [h if "." in h else f"{spec.group}.{h}" for h in spec.hparams]
    for term in EXTRA_TERMS.values():  # a term that is on reads its weights through hparams
        if any(config.objective[w] for w in term.weights):
            keys += [f"objective.{h}" for h in term.weights + term.hparams]
    return tuple(keys)


def matmul_precision(config: ml_collections.ConfigDict):
    """``jax.default_matmul_precision(config.train.matmul_precision)`` as a context manager."""
    value = choice(
        config.train.get("matmul_precision", "default"), MATMUL_PRECISIONS, "train.matmul_precision"
    )
    return jax.default_matmul_precision(value)
