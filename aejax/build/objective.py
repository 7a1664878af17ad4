"""The objective ``config.objective`` describes, from the specs the objective modules declare.

``objective.name`` picks an :class:`~aejax.objectives.spec.ObjectiveSpec`; its options and
hparams are read from its own config group (``config.<spec.group>``, e.g. ``config.factor_vae``),
every extra term (``config.objective``) whose weight is > 0 is added, and
``objective.corruption`` wraps the whole. The spec's extra streams are sized here too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import ml_collections

from aejax import config_keys, nn, objectives
from aejax.build.checks import choice, get, options, positive
from aejax.errors import ConfigError
from aejax.objectives import compose
from aejax.objectives.regularizers import CORRUPTION_HPARAMS, CORRUPTIONS
from aejax.objectives.spec import ModelFacts, ObjectiveSpec, require_fraction, require_positive
from aejax.types import Stream

# objective.name -> its spec, and the extra terms, as the objective modules declare them.
OBJECTIVES: Mapping[str, ObjectiveSpec] = objectives.OBJECTIVES
EXTRA_TERMS = objectives.EXTRA_TERMS
# Objectives that read the encoder input (a denoising corruption reaches them), and those whose
# KL needs a density for q(z|x).
CORRUPTIBLE = tuple(name for name, spec in OBJECTIVES.items() if spec.corruptible)
NEEDS_DENSITY = tuple(name for name, spec in OBJECTIVES.items() if spec.needs_density)


def build_objective(
    config: ml_collections.ConfigDict, num_examples: int | None = None
) -> tuple[Callable, dict[str, float]]:
    """``(objective_fn, {hparam: value})`` for ``config.objective``: the bound
    ``objective.name`` with its static options, plus every extra term whose weight is > 0, under
    the input corruption ``objective.corruption``. ``num_examples`` (the training set size) is
    passed to the objective's ``derive`` (hparams that follow from the data)."""
    config = config_keys.translated(config)
    o, m = config.objective, config.model
    name = choice(o.name, tuple(OBJECTIVES), "objective.name")
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
    opts = _spec_options(config, spec)
    objective = compose.bind(spec.fn, **opts)
    # hparam -> the config key it is read from.
    sources = {h.rsplit(".", 1)[-1]: h if "." in h else f"{spec.group}.{h}" for h in spec.hparams}
    must_be_positive, fractions = list(spec.positive), list(spec.fractions)
    checks = [(spec.check, opts)]
    extras = []
    for term in EXTRA_TERMS.values():
        if any(o[w] for w in term.weights):
            term_opts = options(o, term.options, "objective")
            extras.append(compose.bind(term.fn, **term_opts))
            for h in term.weights + term.hparams:
                sources.setdefault(h, f"objective.{h}")
            must_be_positive += term.positive
            fractions += term.fractions
            checks.append((term.check, term_opts))
    objective = compose.combine(objective, extras)
    corruption = choice(o.corruption, CORRUPTIONS, "objective.corruption")
    if corruption != "none":
        if not spec.corruptible:
            raise ConfigError(
                f"objective.corruption={corruption!r} works with {', '.join(CORRUPTIBLE)}, "
                f"not objective.name={name!r}; set objective.corruption='none'"
            )
        strength, is_fraction = CORRUPTION_HPARAMS[corruption]
        sources[strength] = f"objective.{strength}"
        fractions += [strength] if is_fraction else []
        objective = compose.with_corruption(objective, corruption)
    values = {}
    for h, key in sources.items():
        value = get(config, key)
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{key} must be a number >= 0, got {value!r}")
        values[h] = float(value)
    for h in must_be_positive:
        require_positive(values, h, group=sources[h].rsplit(".", 1)[0])
    for h in fractions:
        require_fraction(values, h, group=sources[h].rsplit(".", 1)[0])
    facts = ModelFacts(
        posterior=m.posterior,
        latent_width=m.latent_dim + sum(m.ladder.latent_dims),
        batch_coupled_encoder=_batch_norm_encoder(m),
    )
    for check, part_opts in checks:
        if check is not None:
            check(values, part_opts, facts)
    if spec.derive is not None:
        pools = {s.name: _pool_size(config, name, s) for s in spec.streams}
        values = spec.derive(values, num_examples=num_examples, pools=pools)
    return objective, values


def _spec_options(config: ml_collections.ConfigDict, spec: ObjectiveSpec) -> dict:
    """The spec's options, read from its group (a dotted key from the config root)."""
    out = {}
    for arg, opt in spec.options.items():
        group, _, leaf = opt.key.rpartition(".")
        group = group or spec.group
        out.update(options(get(config, group), {arg: opt._replace(key=leaf)}, group))
    return out


def _batch_norm_encoder(m: ml_collections.ConfigDict) -> bool:
    """Whether the encoder normalises with batch statistics in training (ConvLSTM has no norm),
    which couples the examples: the contractive penalty's one-VJP-per-unit Jacobian
    (:func:`aejax.objectives.regularizers.jacobian_frobenius_sq`) is then not per example."""
    return m.encoder.norm == "batch" and m.encoder.kind != nn.SEQUENCE_NETWORK


def _pool_size(config: ml_collections.ConfigDict, objective: str, stream) -> int:
    n = int(positive(get(config, stream.pool_size_key), stream.pool_size_key, allow_zero=True))
    if not n:
        raise ConfigError(
            f"objective.name={objective!r} draws a batch of its {stream.name} pool every step: "
            f"set {stream.pool_size_key} > 0 (the pool's size)"
        )
    return n


def build_streams(config: ml_collections.ConfigDict) -> tuple[Stream, ...]:
    """The extra batch streams ``objective.name`` declares, sized from the config."""
    config = config_keys.translated(config)
    name = choice(config.objective.name, tuple(OBJECTIVES), "objective.name")
    streams = []
    for spec in OBJECTIVES[name].streams:
        size = _pool_size(config, name, spec)
        batch_size = int(positive(get(config, spec.batch_size_key), spec.batch_size_key))
        if batch_size > size:
            raise ConfigError(
                f"{spec.batch_size_key}={batch_size} exceeds {spec.pool_size_key}={size}"
            )
        context = {key.rsplit(".", 1)[-1]: get(config, key) for key in spec.context}
        select = functools.partial(spec.select, size=size, **context)
        streams.append(Stream(name=spec.name, batch_size=batch_size, select=select))
    return tuple(streams)
