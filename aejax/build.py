"""The only module that reads a ConfigDict: validates it and builds typed pieces from it.

Every invalid value raises :class:`~aejax.errors.ConfigError` naming the key, the value and the
valid choices. The rest of the library receives plain objects (modules, functions, dataclasses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from aejax import models, nn, objectives
from aejax.data.base import ArrayDataset
from aejax.errors import ConfigError
from aejax.train.epochs import BINARIZE_MODES

# name -> (objective function, names of the hparams it reads from config.objective)
OBJECTIVES: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "elbo": (objectives.negative_elbo, ("beta",)),
    "reconstruction": (objectives.reconstruction, ()),
    "factor_vae": (objectives.factor_vae, ("gamma",)),
    "wae_gan": (objectives.adversarial_prior_matching, ("lam",)),
    "aae": (objectives.adversarial_prior_matching, ("lam",)),
    "m2": (objectives.m2, ("alpha",)),
}
POSTERIORS = ("gaussian", "delta")
LIKELIHOODS = ("bernoulli", "gaussian")
GAUSSIAN_SIGMAS = ("fixed", "shared", "per_pixel")
NETWORKS = ("mlp", "conv")
UPSAMPLES = ("resize", "transpose")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "linear")
ON_NONFINITE = ("stop", "skip")


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


@dataclasses.dataclass(frozen=True)
class Experiment:
    """What a config describes, as objects: model, objective, update direction, hparams."""

    model: models.AutoEncoder
    objective: Callable
    tx: optax.GradientTransformation
    hparams: Mapping[str, float]
    train: TrainSettings
    binarize: str
    seed: int
    labelled_batch_size: int = 0


def _choice(value: str, valid: tuple[str, ...], key: str) -> str:
    if value not in valid:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of {', '.join(valid)}")
    return value


def _positive(value, key: str, *, allow_zero: bool = False):
    if value is None or (value < 0 if allow_zero else value <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key} must be {bound}, got {value!r}")
    return value


def load_data(config: ml_collections.ConfigDict, split: str) -> ArrayDataset:
    """Loads ``split`` as the config says: source, truncation and static binarisation."""
    from aejax.data import registry as data_registry

    c = config.data
    _choice(c.binarize, BINARIZE_MODES, "data.binarize")
    options = c[data_registry.source_kind(c.name)].to_dict()
    if "max_examples" in options and not options["max_examples"]:
        options["max_examples"] = None
    ds = data_registry.load_split(c.name, split, data_dir=c.dir, options=options)
    limit = c.num_train if split == "train" else c.num_test
    _positive(limit, f"data.num_{split}", allow_zero=True)
    if limit:
        ds = ds.take(int(limit))
    if c.binarize == "static":
        ds = dataclasses.replace(ds, images=(ds.images > 0.5).astype(np.float32))
    num_classes = config.model.num_classes
    if num_classes:
        if ds.labels is None:
            raise ConfigError(
                f"model.num_classes={num_classes} conditions on labels, but {c.name!r} has none"
            )
        if ds.labels.min() < 0 or ds.labels.max() >= num_classes:
            raise ConfigError(
                f"model.num_classes={num_classes}, but {c.name!r} {split} labels span "
                f"[{ds.labels.min()}, {ds.labels.max()}]; set model.num_classes="
                f"{int(ds.labels.max()) + 1}"
            )
    return ds


def labelled_pool(config: ml_collections.ConfigDict, ds: ArrayDataset) -> np.ndarray | None:
    """Indices of the training examples whose labels semi-supervised training may use, the
    same number per class, drawn from the seed; ``None`` when ``data.num_labelled`` is 0."""
    from aejax.data.semi_supervised import balanced_subset
    from aejax.train.rng import named_keys, subkey

    n = config.data.num_labelled
    _positive(n, "data.num_labelled", allow_zero=True)
    if not n:
        return None
    classes = config.model.num_classes
    if not classes or n % classes:
        raise ConfigError(
            f"data.num_labelled={n} must be a multiple of model.num_classes={classes} (> 0): "
            "the labelled pool has the same number of examples per class"
        )
    key = subkey(named_keys(int(config.seed))["data"], "labelled_pool")
    return balanced_subset(ds.labels, n // classes, classes, key)


def _network(c: ml_collections.ConfigDict, key: str, role: str, out):
    kind = _choice(c.kind, NETWORKS, f"{key}.kind")
    try:
        hidden = tuple(int(w) for w in c.hidden)
        channels = tuple(int(w) for w in c.channels)
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"{key}.hidden and {key}.channels must be tuples of integers, got "
            f"hidden={c.hidden!r}, channels={c.channels!r}"
        ) from e
    if any(w <= 0 for w in hidden + channels):
        raise ConfigError(
            f"{key}: layer widths must be > 0, got hidden={hidden} channels={channels}"
        )
    if kind == "conv" and not channels:
        raise ConfigError(f"{key}.channels must list at least one conv layer for kind='conv'")
    if role == "encoder":
        if kind == "mlp":
            return nn.MLPEncoder(hidden=hidden, out_features=out, activation=c.activation)
        return nn.ConvEncoder(
            channels=channels, dense=int(c.dense), out_features=out, activation=c.activation
        )
    if kind == "mlp":
        return nn.MLPDecoder(hidden=hidden, out_shape=out, activation=c.activation)
    upsample = _choice(c.upsample, UPSAMPLES, f"{key}.upsample")
    return nn.ConvDecoder(
        channels=channels,
        dense=int(c.dense),
        out_shape=out,
        activation=c.activation,
        upsample=upsample,
    )


def build_model(
    config: ml_collections.ConfigDict,
    image_shape: tuple[int, ...],
    requires: tuple[str, ...] = (),
) -> models.AutoEncoder:
    """The autoencoder the config describes, for images shaped ``(H, W, C)``.

    ``requires`` names the extra players the objective needs (``"critic"``, ``"classifier"``).
    """
    m = config.model
    latent_dim = int(_positive(m.latent_dim, "model.latent_dim"))
    posterior = _choice(m.posterior, POSTERIORS, "model.posterior")
    likelihood = _choice(m.likelihood, LIKELIHOODS, "model.likelihood")
    from aejax.nn.mlp import ACTIVATIONS

    for net in ("encoder", "decoder"):
        _choice(m[net].activation, tuple(ACTIVATIONS), f"model.{net}.activation")
    if posterior == "gaussian":
        posterior_head = models.GaussianPosteriorHead(latent_dim)
        features = 2 * latent_dim
    else:
        posterior_head = models.DeltaPosteriorHead(latent_dim)
        features = latent_dim
    if likelihood == "bernoulli":
        likelihood_head = models.BernoulliHead()
    else:
        _choice(m.gaussian_sigma, GAUSSIAN_SIGMAS, "model.gaussian_sigma")
        _positive(m.fixed_sigma, "model.fixed_sigma")
        likelihood_head = models.GaussianHead(sigma=m.gaussian_sigma, fixed_sigma=m.fixed_sigma)
    height, width, channels = image_shape
    out_shape = (height, width, channels * likelihood_head.params_per_pixel)
    # The encoder's own last layer is sized for the head; the head adds its projection on top.
    encoder = _network(m.encoder, "model.encoder", "encoder", features)
    decoder = _network(m.decoder, "model.decoder", "decoder", out_shape)
    num_classes = int(_positive(m.num_classes, "model.num_classes", allow_zero=True))
    critic = classifier = None
    if "critic" in requires:
        hidden = tuple(int(w) for w in m.critic.hidden)
        _choice(m.critic.activation, tuple(ACTIVATIONS), "model.critic.activation")
        critic = nn.MLPCritic(hidden=hidden, activation=m.critic.activation)
    if "classifier" in requires:
        if num_classes < 2:
            raise ConfigError(
                f"this objective classifies labels: set model.num_classes >= 2, got {num_classes}"
            )
        _choice(m.classifier.activation, tuple(ACTIVATIONS), "model.classifier.activation")
        classifier = nn.MLPEncoder(
            hidden=tuple(int(w) for w in m.classifier.hidden),
            out_features=num_classes,
            activation=m.classifier.activation,
        )
    ladder_dims = tuple(int(d) for d in m.ladder.latent_dims)
    if ladder_dims:
        ladder_hidden = tuple(int(w) for w in m.ladder.hidden)
        if any(d <= 0 for d in ladder_dims) or not ladder_hidden or min(ladder_hidden) <= 0:
            raise ConfigError(
                f"model.ladder: latent_dims and hidden must be positive widths (hidden non-empty),"
                f" got latent_dims={ladder_dims} hidden={ladder_hidden}"
            )
        if posterior != "gaussian" or num_classes or critic or classifier:
            raise ConfigError(
                "model.ladder.latent_dims (a hierarchical VAE) needs model.posterior='gaussian' "
                "and no labels, critic or classifier (model.num_classes=0; objective elbo)"
            )
        return models.HierarchicalAutoEncoder(
            encoder=encoder,
            posterior_head=posterior_head,
            decoder=decoder,
            likelihood_head=likelihood_head,
            latent_dim=latent_dim,
            latent_dims=ladder_dims,
            hidden=ladder_hidden,
            activation=m.encoder.activation,
        )
    return models.AutoEncoder(
        encoder=encoder,
        posterior_head=posterior_head,
        decoder=decoder,
        likelihood_head=likelihood_head,
        prior=models.StandardNormalPrior(latent_dim),
        num_classes=num_classes,
        critic=critic,
        classifier=classifier,
    )


def build_objective(config: ml_collections.ConfigDict) -> tuple[Callable, dict[str, float]]:
    """``(objective_fn, {hparam: value})`` for ``config.objective``."""
    name = _choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    fn, hparam_names = OBJECTIVES[name]
    if name == "elbo" and config.model.posterior != "gaussian":
        raise ConfigError(
            "objective.name='elbo' needs model.posterior='gaussian' (a Delta posterior has no "
            "density); use objective.name='reconstruction' for a deterministic autoencoder"
        )
    values = {}
    for h in hparam_names:
        value = config.objective[h]
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"objective.{h} must be a number >= 0, got {value!r}")
        values[h] = float(value)
    return fn, values


def build_schedule(config: ml_collections.ConfigDict, num_steps: int) -> optax.Schedule | None:
    """Multiplier of the learning rate over steps (peak 1), or None for a constant rate."""
    o = config.optimizer
    kind = _choice(o.schedule, SCHEDULES, "optimizer.schedule")
    warmup = int(_positive(o.warmup_steps, "optimizer.warmup_steps", allow_zero=True))
    if kind == "constant" and not warmup:
        return None
    if kind == "cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, 1.0, warmup, max(num_steps, warmup + 1), end_value=o.final_fraction
        )
    decay = (
        optax.constant_schedule(1.0)
        if kind == "constant"
        else optax.linear_schedule(1.0, o.final_fraction, max(num_steps - warmup, 1))
    )
    return optax.join_schedules([optax.linear_schedule(0.0, 1.0, warmup), decay], [warmup])


def build_direction(
    config: ml_collections.ConfigDict, num_steps: int
) -> optax.GradientTransformation:
    """The optimizer without its learning rate: the step scales this by ``-learning_rate``."""
    o = config.optimizer
    name = _choice(o.name, OPTIMIZERS, "optimizer.name")
    _positive(o.learning_rate, "optimizer.learning_rate")
    _positive(o.clip_norm, "optimizer.clip_norm", allow_zero=True)
    parts = []
    if o.clip_norm:
        parts.append(optax.clip_by_global_norm(o.clip_norm))
    if name in ("adam", "adamw"):
        parts.append(optax.scale_by_adam(b1=o.b1, b2=o.b2, eps=o.eps))
        if name == "adamw":
            parts.append(optax.add_decayed_weights(o.weight_decay))
    elif name == "sgd":
        if o.momentum:
            parts.append(optax.trace(decay=o.momentum))
    else:
        parts.append(optax.scale_by_rms(decay=o.b2, eps=o.eps))
        if o.momentum:
            parts.append(optax.trace(decay=o.momentum))
    schedule = build_schedule(config, num_steps)
    if schedule is not None:
        parts.append(optax.scale_by_schedule(schedule))
    return optax.chain(*parts) if parts else optax.identity()


def build_critic_direction(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """The critic's own optimizer (Adam) without its learning rate."""
    c = config.optimizer.critic
    _positive(c.learning_rate, "optimizer.critic.learning_rate")
    return optax.scale_by_adam(b1=c.b1, b2=c.b2)


def _two_player(main: optax.GradientTransformation, critic: optax.GradientTransformation):
    """``main`` for every params subtree except ``critic``, which gets ``critic``."""

    def labels(params):
        return {
            k: jax.tree_util.tree_map(lambda _, g="critic" if k == "critic" else "main": g, v)
            for k, v in params.items()
        }

    return optax.multi_transform({"main": main, "critic": critic}, labels)


def resolve_train(config: ml_collections.ConfigDict, num_examples: int) -> TrainSettings:
    t = config.train
    batch_size = int(_positive(t.batch_size, "train.batch_size"))
    if batch_size > num_examples:
        raise ConfigError(
            f"train.batch_size={batch_size} exceeds the {num_examples} training examples"
        )
    steps_per_epoch = num_examples // batch_size
    _positive(t.num_steps, "train.num_steps", allow_zero=True)
    _positive(t.num_epochs, "train.num_epochs", allow_zero=True)
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
        log_every=int(_positive(t.log_every, "train.log_every")),
        checkpoint_every=int(_positive(t.checkpoint_every, "train.checkpoint_every")),
        keep_checkpoints=int(_positive(t.keep_checkpoints, "train.keep_checkpoints")),
        steps_per_call=int(_positive(t.steps_per_call, "train.steps_per_call")),
        on_nonfinite=_choice(t.on_nonfinite, ON_NONFINITE, "train.on_nonfinite"),
        progress=bool(t.progress),
        log_example_ids=bool(t.log_example_ids),
        debug_checks=bool(t.debug_checks),
        data_parallel=bool(t.get("data_parallel", True)),
        shard_params=bool(t.get("shard_params", False)),
    )


def build_experiment(
    config: ml_collections.ConfigDict, image_shape: tuple[int, ...], num_examples: int
) -> Experiment:
    """Everything training needs besides the data arrays."""
    if not isinstance(config.seed, int) or config.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {config.seed!r}")
    train = resolve_train(config, num_examples)
    objective, hparams = build_objective(config)
    hparams = {"learning_rate": float(config.optimizer.learning_rate), **hparams}
    requires = tuple(getattr(objective, "requires", ()))
    tx = build_direction(config, train.num_steps)
    if "critic" in requires:
        tx = _two_player(tx, build_critic_direction(config))
        hparams["critic_learning_rate"] = float(config.optimizer.critic.learning_rate)
    else:
        # One optimizer update over a single flat vector instead of one per parameter leaf
        # (fewer, larger fused loops: ~7% of the reference MLP VAE's CPU step).
        tx = optax.flatten(tx)
    labelled_batch_size = 0
    if "labelled_pool" in requires:
        n = int(config.data.num_labelled)
        if not n:
            raise ConfigError(
                f"objective.name={config.objective.name!r} is semi-supervised: set "
                "data.num_labelled (e.g. 100) and model.num_classes"
            )
        labelled_batch_size = int(
            _positive(config.data.labelled_batch_size, "data.labelled_batch_size")
        )
        if labelled_batch_size > n:
            raise ConfigError(
                f"data.labelled_batch_size={labelled_batch_size} exceeds data.num_labelled={n}"
            )
        hparams["labelled_weight"] = n / num_examples
        if not hparams["alpha"]:
            hparams["alpha"] = 0.1 * n  # Kingma et al. 2014's alpha = 0.1 N, per unlabelled example
    return Experiment(
        model=build_model(config, image_shape, requires),
        objective=objective,
        tx=tx,
        hparams=hparams,
        train=train,
        binarize=config.data.binarize,
        seed=int(config.seed),
        labelled_batch_size=labelled_batch_size,
    )


def hparams_as_arrays(hparams: Mapping[str, float]) -> dict[str, jnp.ndarray]:
    """float32 scalar arrays, so changing a value never recompiles the step."""
    return {k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()}


def hparam_config_keys(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """Config keys whose values reach the step only through ``hparams`` (so members of a sweep
    that differ only in these share one compiled step)."""
    name = _choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    keys = ["optimizer.learning_rate", "optimizer.critic.learning_rate"]
    return tuple(keys + [f"objective.{h}" for h in OBJECTIVES[name][1]])


MATMUL_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")


def matmul_precision(config: ml_collections.ConfigDict):
    """``jax.default_matmul_precision(config.train.matmul_precision)`` as a context manager."""
    value = _choice(
        config.train.get("matmul_precision", "default"), MATMUL_PRECISIONS, "train.matmul_precision"
    )
    return jax.default_matmul_precision(value)
