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
from aejax.models.sequence import SequenceHead
from aejax.train.epochs import BINARIZE_MODES

# name -> (objective function, names of the hparams it reads from config.objective)
_KL_SCHEDULE = ("kl_warmup_steps", "kl_cycle_steps", "kl_cycle_ratio")
OBJECTIVES: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "elbo": (objectives.negative_elbo, ("beta", "free_bits", *_KL_SCHEDULE)),
    "reconstruction": (objectives.reconstruction, ()),
    "capacity_vae": (objectives.capacity_vae, ("gamma", "capacity_max", "capacity_steps")),
    "iwae": (objectives.iwae, ()),
    # dataset_size is not a config key: build_objective fills in the number of training examples.
    "beta_tcvae": (objectives.beta_tcvae, ("mi_weight", "beta", "dwkl_weight", "dataset_size")),
    "wae_mmd": (objectives.wae_mmd, ("lam", "mmd_scale")),
    "factor_vae": (objectives.factor_vae, ("gamma",)),
    "wae_gan": (objectives.adversarial_prior_matching, ("lam",)),
    "aae": (objectives.adversarial_prior_matching, ("lam",)),
    "m2": (objectives.m2, ("alpha",)),
}
# name -> static options: config.objective keys passed as keyword arguments (changing one
# changes the program, so it recompiles; the hparams above never do).
OBJECTIVE_OPTIONS: dict[str, dict[str, str]] = {
    "elbo": {"kl_schedule": "kl_schedule", "free_bits_groups": "free_bits_groups"},
    "iwae": {"num_samples": "num_samples"},
    "beta_tcvae": {"estimator": "tc_estimator"},
    "wae_mmd": {"kernel": "mmd_kernel"},
}
# Extra terms added to any bound: (term, its weight keys, other hparams, static options). A term
# is compiled in when one of its weights in the config is > 0; hparams then vary the value.
EXTRA_TERMS: dict[str, tuple[Callable, tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "mmd": (objectives.mmd_penalty, ("mmd_weight",), ("mmd_scale",), {"kernel": "mmd_kernel"}),
    "dip": (objectives.dip_vae, ("dip_lambda_od", "dip_lambda_d"), (), {"dip_type": "dip_type"}),
    "l1": (objectives.l1_code, ("l1_weight",), (), {}),
    "sparsity": (objectives.sparsity_kl, ("sparsity_weight",), ("sparsity_target",), {}),
    "contractive": (objectives.contractive, ("contractive_weight",), (), {}),
}
# Objectives that read the encoder input, so a denoising corruption reaches them.
CORRUPTIBLE = ("elbo", "reconstruction", "capacity_vae", "iwae", "beta_tcvae", "wae_mmd")
# Objectives whose KL needs a density for q(z|x): not a Delta posterior.
NEEDS_DENSITY = ("elbo", "capacity_vae", "iwae", "beta_tcvae")
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
    the input corruption ``objective.corruption``. ``num_examples`` (the training set size) fills
    the ``dataset_size`` hparam of the objectives that read it."""
    from aejax.objectives import compose
    from aejax.objectives.decomposed import DIP_TYPES, TC_ESTIMATORS
    from aejax.objectives.kernels import KERNELS
    from aejax.objectives.regularizers import CORRUPTIONS
    from aejax.objectives.schedules import KL_SCHEDULES

    o = config.objective
    name = _choice(o.name, tuple(OBJECTIVES), "objective.name")
    fn, hparam_names = OBJECTIVES[name]
    if tuple(config.model.ladder.latent_dims) and name not in ("elbo", "capacity_vae"):
        raise ConfigError(
            f"objective.name={name!r} reads a single-layer posterior; a hierarchical VAE "
            "(model.ladder.latent_dims) trains with objective.name='elbo' or 'capacity_vae'"
        )
    if name in NEEDS_DENSITY and config.model.posterior != "gaussian":
        raise ConfigError(
            f"objective.name={name!r} needs model.posterior='gaussian' (a Delta posterior has no "
            "density); use objective.name='reconstruction' for a deterministic autoencoder"
        )
    choices = {
        "kl_schedule": KL_SCHEDULES,
        "tc_estimator": TC_ESTIMATORS,
        "mmd_kernel": KERNELS,
        "dip_type": DIP_TYPES,
    }
    names = list(hparam_names)

    def options(spec: dict[str, str]) -> dict:
        out = {}
        for arg, key in spec.items():
            value = o[key]
            if key in choices:
                _choice(value, choices[key], f"objective.{key}")
            elif not isinstance(value, int) or value < (key == "num_samples"):
                bound = 1 if key == "num_samples" else 0
                raise ConfigError(f"objective.{key} must be an integer >= {bound}, got {value!r}")
            out[arg] = value
        return out

    opts = options(OBJECTIVE_OPTIONS.get(name, {}))
    groups = opts.get("free_bits_groups", 0)
    width = config.model.latent_dim + sum(config.model.ladder.latent_dims)
    if groups and width % groups:
        raise ConfigError(
            f"objective.free_bits_groups={groups} must divide the latent width {width} "
            "(model.latent_dim plus model.ladder.latent_dims; 0 = one group per dimension)"
        )
    objective = compose.bind(fn, **opts)
    extras = []
    for term, (extra, weights, others, spec) in EXTRA_TERMS.items():
        if any(o[w] for w in weights):
            if term == "dip" and o.dip_type == "ii" and config.model.posterior != "gaussian":
                raise ConfigError("objective.dip_type='ii' needs model.posterior='gaussian'")
            if term == "contractive" and _batch_norm_encoder(config.model):
                raise ConfigError(
                    "objective.contractive_weight > 0 needs each code to depend on its own input "
                    "alone, but model.encoder.norm='batch' mixes the batch; use "
                    "model.encoder.norm='layer' or 'group'"
                )
            extras.append(compose.bind(extra, **options(spec)))
            names += [h for h in weights + others if h not in names]
    objective = compose.combine(objective, extras)
    corruption = _choice(o.corruption, CORRUPTIONS, "objective.corruption")
    if corruption != "none":
        if name not in CORRUPTIBLE:
            raise ConfigError(
                f"objective.corruption={corruption!r} works with {', '.join(CORRUPTIBLE)}, "
                f"not objective.name={name!r}; set objective.corruption='none'"
            )
        names.append("noise_std" if corruption == "gaussian" else "mask_prob")
        objective = compose.with_corruption(objective, corruption)
    values = {}
    for h in names:
        if h == "dataset_size":
            if not num_examples:
                raise ConfigError(f"objective.name={name!r} needs the training set size")
            values[h] = float(num_examples)
            continue
        value = o[h]
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"objective.{h} must be a number >= 0, got {value!r}")
        values[h] = float(value)
    _check_ranges(o, name, values)
    return objective, values


def _batch_norm_encoder(m: ml_collections.ConfigDict) -> bool:
    """Whether the encoder normalises with batch statistics in training (ConvLSTM has no norm),
    which couples the examples: the contractive penalty's one-VJP-per-unit Jacobian
    (:func:`aejax.objectives.regularizers.jacobian_frobenius_sq`) is then not per example."""
    return m.encoder.norm == "batch" and m.encoder.kind != SEQUENCE_NETWORK


def _check_ranges(o: ml_collections.ConfigDict, name: str, values: dict[str, float]) -> None:
    """Hparams whose valid range is narrower than ``>= 0``; each error names the key."""
    needed = {
        "kl_warmup_steps": name == "elbo" and o.kl_schedule == "linear",
        "kl_cycle_steps": name == "elbo" and o.kl_schedule == "cyclical",
        "kl_cycle_ratio": name == "elbo" and o.kl_schedule == "cyclical",
        "capacity_steps": "capacity_steps" in values,
        "mmd_scale": "mmd_scale" in values,
    }
    for key, check in needed.items():
        if check and not values[key] > 0:
            raise ConfigError(f"objective.{key} must be > 0, got {values[key]!r}")
    if values.get("kl_cycle_ratio", 0.5) > 1:
        raise ConfigError(f"objective.kl_cycle_ratio must be in (0, 1], got {o.kl_cycle_ratio}")
    for key in ("sparsity_target", "mask_prob"):
        if key in values and not 0 < values[key] < 1:
            raise ConfigError(f"objective.{key} must be in (0, 1), got {values[key]!r}")


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
            # Kingma et al.'s alpha = 0.1 N weights the mean labelled cross-entropy against a sum
            # over the data; per unlabelled example that is 0.1 N / N_l (see objectives.m2).
            hparams["alpha"] = 0.1 * num_examples / n
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
