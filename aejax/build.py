"""The only module that reads a ConfigDict: validates it and builds typed pieces from it.

Every invalid value raises :class:`~aejax.errors.ConfigError` naming the key, the value and the
valid choices. The rest of the library receives plain objects (modules, functions, dataclasses).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from aejax import models, nn, objectives
from aejax.data.base import BINARIZE_MODES, ArrayDataset
from aejax.errors import ConfigError
from aejax.models.sequence import SequenceHead
from aejax.objectives.spec import ModelFacts, ObjectiveSpec, Option, require_fraction
from aejax.objectives.spec import require_positive as _require_positive
from aejax.types import Player, Stream

# objective.name -> its spec, and the extra terms, as the objective modules declare them.
OBJECTIVES: Mapping[str, ObjectiveSpec] = objectives.OBJECTIVES
EXTRA_TERMS = objectives.EXTRA_TERMS
# Objectives that read the encoder input (a denoising corruption reaches them), and those whose
# KL needs a density for q(z|x).
CORRUPTIBLE = tuple(name for name, spec in OBJECTIVES.items() if spec.corruptible)
NEEDS_DENSITY = tuple(name for name, spec in OBJECTIVES.items() if spec.needs_density)
POSTERIORS = ("gaussian", "delta")
LIKELIHOODS = ("bernoulli", "gaussian", "continuous_bernoulli", "logistic", "logistic_mixture")
PRIORS = ("standard_normal", "mixture", "vamp", "flow")
GAUSSIAN_SIGMAS = ("fixed", "shared", "per_pixel")
NETWORKS = ("mlp", "conv", "wavenet")
SEQUENCE_NETWORK = "convlstm"  # for sequences [T, H, W, C]; both encoder and decoder
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
    scan_unroll: int = 1  # steps unrolled per loop iteration of a chunk (conv models: >1)


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
    players: tuple[Player, ...] = ()  # extra players besides the main model (see aejax.types)
    streams: tuple[Stream, ...] = ()  # extra batch streams


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
    if split == "train" and c.exclude_class >= 0:
        ds = _exclude_class(ds, int(c.exclude_class))
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


def _exclude_class(ds: ArrayDataset, label: int) -> ArrayDataset:
    """``ds`` without the examples of class ``label`` (the held-out class of anomaly detection)."""
    if ds.labels is None or not np.any(ds.labels == label):
        raise ConfigError(
            f"data.exclude_class={label} but the training split of {ds.info.name!r} has "
            f"{'no labels' if ds.labels is None else 'no example of that class'}; "
            "set data.exclude_class=-1 or a label present in the data"
        )
    keep = ds.labels != label
    return dataclasses.replace(
        ds,
        images=ds.images[keep],
        labels=ds.labels[keep],
        factors=None if ds.factors is None else ds.factors[keep],
    )


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
    if kind != "mlp" and not channels:
        raise ConfigError(f"{key}.channels must list at least one conv layer for kind={kind!r}")
    norm = _choice(c.norm, nn.layers.NORMS, f"{key}.norm")
    rate = c.dropout
    if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ConfigError(f"{key}.dropout must be a rate in [0, 1), got {rate!r}")
    common = dict(activation=c.activation, norm=norm, dropout=float(rate))
    if kind == "mlp":
        if role == "encoder":
            return nn.MLPEncoder(hidden=hidden, out_features=out, **common)
        return nn.MLPDecoder(hidden=hidden, out_shape=out, **common)
    common.update(
        conv=_choice(c.conv, nn.layers.CONV_TYPES, f"{key}.conv"),
        blocks=int(_positive(c.blocks, f"{key}.blocks", allow_zero=True)),
        channels=channels,
        dense=int(_positive(c.dense, f"{key}.dense", allow_zero=True)),
    )
    if kind == "conv":
        common.update(
            dilation=int(_positive(c.dilation, f"{key}.dilation")),
            block=_choice(c.block, nn.layers.BLOCKS, f"{key}.block"),
        )
    if role == "encoder":
        cls = nn.ConvEncoder if kind == "conv" else nn.WaveNetEncoder
        return cls(out_features=out, **common)
    upsample = _choice(c.upsample, UPSAMPLES, f"{key}.upsample")
    cls = nn.ConvDecoder if kind == "conv" else nn.WaveNetDecoder
    return cls(out_shape=out, upsample=upsample, **common)


def _sequence_networks(m: ml_collections.ConfigDict, shape: tuple[int, ...], features, head):
    """ConvLSTM encoder and decoder for sequences shaped ``(T, H, W, C)`` (see aejax.nn.sequence);
    per-frame conv widths come from ``model.{encoder,decoder}.channels``."""
    from aejax.nn.sequence import ConvLSTMDecoder, ConvLSTMEncoder

    kinds = (m.encoder.kind, m.decoder.kind)
    if len(shape) != 4 or kinds != (SEQUENCE_NETWORK, SEQUENCE_NETWORK):
        raise ConfigError(
            f"sequences [T, H, W, C] need model.encoder.kind and model.decoder.kind both "
            f"'{SEQUENCE_NETWORK}' (and ConvLSTM networks need sequences); got data shape {shape}"
            f" and kinds {kinds}. For single frames of moving_sprites set "
            "data.moving_sprites.frames=True and an image network"
        )
    c = m.convlstm
    num_frames = shape[0]
    context = int(c.context_frames)
    if not 1 <= context <= num_frames:
        raise ConfigError(
            f"model.convlstm.context_frames={context} must lie in [1, {num_frames}] (the frames "
            "per sequence); the encoder reads that many, the decoder predicts the rest"
        )
    widths = {n: tuple(int(w) for w in m[n].channels) for n in ("encoder", "decoder")}
    if not all(widths.values()) or min(widths["encoder"] + widths["decoder"]) <= 0:
        raise ConfigError(f"model.encoder/decoder.channels must be non-empty and > 0: {widths}")
    rnn = dict(
        features=int(_positive(c.features, "model.convlstm.features")),
        kernel_size=int(_positive(c.kernel_size, "model.convlstm.kernel_size")),
        context_frames=context,
        peephole=bool(c.peephole),
    )
    encoder = ConvLSTMEncoder(
        channels=widths["encoder"], out_features=features, activation=m.encoder.activation, **rnn
    )
    out_shape = (*shape[:3], shape[3] * head.params_per_pixel)
    decoder = ConvLSTMDecoder(
        channels=widths["decoder"], out_shape=out_shape, activation=m.decoder.activation, **rnn
    )
    return encoder, decoder


def build_model(
    config: ml_collections.ConfigDict,
    image_shape: tuple[int, ...],
    requires: tuple[str, ...] = (),
) -> models.AutoEncoder:
    """The autoencoder the config describes, for images shaped ``(H, W, C)``.

    ``requires`` names the extra networks the objective needs (its spec's ``networks``:
    ``"critic"``, ``"classifier"``).
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
    likelihood_head = _likelihood_head(m, likelihood)
    if len(image_shape) == 4 or SEQUENCE_NETWORK in (m.encoder.kind, m.decoder.kind):
        encoder, decoder = _sequence_networks(m, image_shape, features, likelihood_head)
        likelihood_head = SequenceHead(likelihood_head)  # log_prob sums over frames too
    else:
        height, width, channels = image_shape
        out_shape = (height, width, channels * likelihood_head.params_per_pixel)
        # The encoder's own last layer is sized for the head; the head adds its projection.
        encoder = _network(m.encoder, "model.encoder", "encoder", features)
        decoder = _network(m.decoder, "model.decoder", "decoder", out_shape)
    num_classes = int(_positive(m.num_classes, "model.num_classes", allow_zero=True))
    if num_classes and m.prior == "vamp":
        raise ConfigError(
            "model.prior='vamp' encodes unlabelled pseudo-inputs, but model.num_classes="
            f"{num_classes} makes the encoder label-conditioned; use model.prior='mixture'"
        )
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
        prior=_prior(m, latent_dim, posterior, tuple(image_shape)),
        num_classes=num_classes,
        critic=critic,
        classifier=classifier,
    )


def _int_setting(value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key} must be an integer > 0, got {value!r}")
    return value


def _likelihood_head(m: ml_collections.ConfigDict, likelihood: str):
    """The likelihood head for ``model.likelihood`` (already validated)."""
    if likelihood == "bernoulli":
        return models.BernoulliHead()
    if likelihood == "continuous_bernoulli":
        return models.ContinuousBernoulliHead()
    if likelihood == "logistic":
        return models.LogisticHead()
    if likelihood == "logistic_mixture":
        k = _int_setting(m.logistic_components, "model.logistic_components")
        return models.LogisticMixtureHead(num_components=k)
    _choice(m.gaussian_sigma, GAUSSIAN_SIGMAS, "model.gaussian_sigma")
    _positive(m.fixed_sigma, "model.fixed_sigma")
    return models.GaussianHead(sigma=m.gaussian_sigma, fixed_sigma=m.fixed_sigma)


def _prior(m: ml_collections.ConfigDict, latent_dim: int, posterior: str, image_shape):
    """The prior module for ``model.prior`` (KL to any but the standard normal is Monte Carlo)."""
    prior = _choice(m.prior, PRIORS, "model.prior")
    if prior == "standard_normal":
        return models.StandardNormalPrior(latent_dim)
    if prior == "flow":
        hidden = tuple(m.flow_hidden)
        if any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in hidden):
            raise ConfigError(f"model.flow_hidden must list integer widths > 0, got {hidden!r}")
        layers = _int_setting(m.flow_layers, "model.flow_layers")
        return models.FlowPrior(latent_dim, num_layers=layers, hidden=hidden)
    k = _int_setting(m.prior_components, "model.prior_components")
    if prior == "mixture":
        return models.MixturePrior(latent_dim, num_components=k)
    if posterior != "gaussian":
        raise ConfigError(
            f"model.prior='vamp' encodes pseudo-inputs and needs model.posterior='gaussian', got "
            f"{posterior!r}; use another model.prior"
        )
    return models.VampPrior(num_components=k, image_shape=image_shape)


def build_objective(
    config: ml_collections.ConfigDict, num_examples: int | None = None
) -> tuple[Callable, dict[str, float]]:
    """``(objective_fn, {hparam: value})`` for ``config.objective``: the bound
    ``objective.name`` with its static options, plus every extra term whose weight is > 0, under
    the input corruption ``objective.corruption``. ``num_examples`` (the training set size) is
    passed to the objective's ``derive`` (hparams that follow from the data)."""
    from aejax.objectives import compose
    from aejax.objectives.regularizers import CORRUPTION_HPARAMS, CORRUPTIONS

    o, m = config.objective, config.model
    name = _choice(o.name, tuple(OBJECTIVES), "objective.name")
    spec = OBJECTIVES[name]
    if tuple(m.ladder.latent_dims) and not spec.hierarchical:
        valid = " or ".join(repr(n) for n, s in OBJECTIVES.items() if s.hierarchical)
        raise ConfigError(
            f"objective.name={name!r} reads a single-layer posterior; a hierarchical VAE "
            f"(model.ladder.latent_dims) trains with objective.name={valid}"
        )
    if spec.needs_density and m.posterior != "gaussian":
        raise ConfigError(
            f"objective.name={name!r} needs model.posterior='gaussian' (a Delta posterior has no "
            "density); use objective.name='reconstruction' for a deterministic autoencoder"
        )
    opts = _options(o, spec.options)
    objective = compose.bind(spec.fn, **opts)
    names = list(spec.hparams)
    positive, fractions = list(spec.positive), list(spec.fractions)
    checks = [(spec.check, opts)]
    extras = []
    for term in EXTRA_TERMS.values():
        if any(o[w] for w in term.weights):
            term_opts = _options(o, term.options)
            extras.append(compose.bind(term.fn, **term_opts))
            names += [h for h in term.weights + term.hparams if h not in names]
            positive += term.positive
            fractions += term.fractions
            checks.append((term.check, term_opts))
    objective = compose.combine(objective, extras)
    corruption = _choice(o.corruption, CORRUPTIONS, "objective.corruption")
    if corruption != "none":
        if not spec.corruptible:
            raise ConfigError(
                f"objective.corruption={corruption!r} works with {', '.join(CORRUPTIBLE)}, "
                f"not objective.name={name!r}; set objective.corruption='none'"
            )
        strength, is_fraction = CORRUPTION_HPARAMS[corruption]
        names.append(strength)
        fractions += [strength] if is_fraction else []
        objective = compose.with_corruption(objective, corruption)
    values = {}
    for h in names:
        value = o[h]
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"objective.{h} must be a number >= 0, got {value!r}")
        values[h] = float(value)
    _require_positive(values, *positive)
    for h in fractions:
        require_fraction(values, h)
    facts = ModelFacts(posterior=m.posterior, latent_width=m.latent_dim + sum(m.ladder.latent_dims))
    for check, part_opts in checks:
        if check is not None:
            check(values, part_opts, facts)
    if spec.derive is not None:
        pools = {s.name: _pool_size(config, name, s) for s in spec.streams}
        values = spec.derive(values, num_examples=num_examples, pools=pools)
    return objective, values


def _options(o: ml_collections.ConfigDict, spec: Mapping[str, Option]) -> dict:
    """The static keyword options ``spec`` declares, read from ``config.objective``."""
    out = {}
    for arg, option in spec.items():
        value = o[option.key]
        if option.choices:
            _choice(value, option.choices, f"objective.{option.key}")
        elif not isinstance(value, int) or value < option.minimum:
            raise ConfigError(
                f"objective.{option.key} must be an integer >= {option.minimum}, got {value!r}"
            )
        out[arg] = value
    return out


def _get(config: ml_collections.ConfigDict, key: str):
    """``config`` at the dotted ``key`` (``"data.num_labelled"``)."""
    for part in key.split("."):
        config = config[part]
    return config


def _pool_size(config: ml_collections.ConfigDict, objective: str, stream) -> int:
    n = int(_positive(_get(config, stream.pool_size_key), stream.pool_size_key, allow_zero=True))
    if not n:
        raise ConfigError(
            f"objective.name={objective!r} draws a batch of its {stream.name} pool every step: "
            f"set {stream.pool_size_key} > 0 (the pool's size)"
        )
    return n


def build_streams(config: ml_collections.ConfigDict) -> tuple[Stream, ...]:
    """The extra batch streams ``objective.name`` declares, sized from the config."""
    name = _choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    streams = []
    for spec in OBJECTIVES[name].streams:
        size = _pool_size(config, name, spec)
        batch_size = int(_positive(_get(config, spec.batch_size_key), spec.batch_size_key))
        if batch_size > size:
            raise ConfigError(
                f"{spec.batch_size_key}={batch_size} exceeds {spec.pool_size_key}={size}"
            )
        context = {key.rsplit(".", 1)[-1]: _get(config, key) for key in spec.context}
        select = functools.partial(spec.select, size=size, **context)
        streams.append(Stream(name=spec.name, batch_size=batch_size, select=select))
    return tuple(streams)


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


def build_player_direction(
    config: ml_collections.ConfigDict, player: Player
) -> optax.GradientTransformation:
    """An extra player's own optimizer without its learning rate: Adam with the ``b1`` and
    ``b2`` of its config group (``player.optimizer``)."""
    group = _get(config, player.optimizer)
    _positive(group.learning_rate, f"{player.optimizer}.learning_rate")
    return optax.scale_by_adam(b1=group.b1, b2=group.b2)


def _per_player(
    main: optax.GradientTransformation, players: dict[str, optax.GradientTransformation]
):
    """``players[name]`` for the params subtree of each extra player, ``main`` for the rest."""

    def labels(params):
        return {
            k: jax.tree_util.tree_map(lambda _, g=k if k in players else "main": g, v)
            for k, v in params.items()
        }

    return optax.multi_transform({"main": main, **players}, labels)


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
        scan_unroll=int(_positive(t.get("scan_unroll", 1), "train.scan_unroll")),
    )


def build_experiment(
    config: ml_collections.ConfigDict, image_shape: tuple[int, ...], num_examples: int
) -> Experiment:
    """Everything training needs besides the data arrays."""
    if not isinstance(config.seed, int) or config.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {config.seed!r}")
    train = resolve_train(config, num_examples)
    objective, hparams = build_objective(config, num_examples)
    hparams = {"learning_rate": float(config.optimizer.learning_rate), **hparams}
    spec = OBJECTIVES[config.objective.name]
    tx = build_direction(config, train.num_steps)
    if spec.players:
        tx = _per_player(tx, {p.name: build_player_direction(config, p) for p in spec.players})
        for p in spec.players:
            hparams[p.lr_key] = float(_get(config, p.optimizer).learning_rate)
    else:
        # One optimizer update over a single flat vector instead of one per parameter leaf
        # (fewer, larger fused loops: ~7% of the reference MLP VAE's CPU step).
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
    )


def hparams_as_arrays(hparams: Mapping[str, float]) -> dict[str, jnp.ndarray]:
    """float32 scalar arrays, so changing a value never recompiles the step."""
    return {k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()}


def hparam_config_keys(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """Config keys whose values reach the step only through ``hparams`` (so members of a sweep
    that differ only in these share one compiled step)."""
    name = _choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    players = {p for spec in OBJECTIVES.values() for p in spec.players}
    keys = ["optimizer.learning_rate", *sorted(f"{p.optimizer}.learning_rate" for p in players)]
    return tuple(keys + [f"objective.{h}" for h in OBJECTIVES[name].hparams])


MATMUL_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")


def matmul_precision(config: ml_collections.ConfigDict):
    """``jax.default_matmul_precision(config.train.matmul_precision)`` as a context manager."""
    value = _choice(
        config.train.get("matmul_precision", "default"), MATMUL_PRECISIONS, "train.matmul_precision"
    )
    return jax.default_matmul_precision(value)
