"""Expands ``--sweep KEY=V1,V2 --seeds N`` into member configs and groups them by shape.

A member is one point of the product of every swept key's values and the seeds. Members whose
configs differ only in hyperparameters that the train step reads from ``hparams`` (and the seed)
share one compiled step, so they can be trained together under ``vmap``.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import sys

import ml_collections

from aejax import config_keys
from aejax.build.experiment import hparam_config_keys
from aejax.build.settle import settle_config
from aejax.defaults import choose_length, flatten
from aejax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Member:
    """One run of the sweep: its directory name, the swept values and the full config."""

    name: str
    values: dict  # {swept key: value} plus "seed"
    config: ml_collections.ConfigDict


def parse_sweep(spec: str) -> tuple[str, list]:
    """``'elbo.beta=1,2,4'`` -> ``('elbo.beta', [1, 2, 4])`` (Python literals, else strings)."""
    key, sep, values = spec.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key.strip() or not items:
        raise ConfigError(f"--sweep {spec!r}: expected KEY=V1,V2,... e.g. elbo.beta=1,2,4")
    return key.strip(), [_literal(v) for v in items]


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _renamed(axis: tuple[str, list], method: str) -> tuple[str, list]:
    key, values = axis
    new = config_keys.new_key(key, method)
    if new != key:
        shown = ",".join(map(str, values))
        print(f"note: {key} is now {new} for {method}; use --sweep {new}={shown}", file=sys.stderr)
    return new, values


def set_key(config: ml_collections.ConfigDict, key: str, value) -> None:
    """``config[a][b] = value`` for ``key='a.b'``; an unknown key is a :class:`ConfigError`."""
    *parents, leaf = key.split(".")
    target = config
    try:
        for p in parents:
            target = target[p]
        if leaf not in target:
            raise KeyError(leaf)
        target[leaf] = value
    except (KeyError, AttributeError) as e:
        raise ConfigError(f"--sweep {key}: no such config key; check the spelling") from e
    except TypeError as e:
        raise ConfigError(f"--sweep {key}={value!r}: wrong type for this key ({e})") from e


def expand(config: ml_collections.ConfigDict, sweeps: list[str], seeds: int) -> list[Member]:
    """The grid: every combination of the swept values, times seeds ``config.seed + i``.

    Sweeping one of ``train.num_steps`` / ``train.num_epochs`` sets the other to 0 in every
    member, as the command line does (:func:`aejax.defaults.choose_length`). ``config`` is
    settled first (:func:`aejax.build.settle_config`, in place), and a swept old key
    (``objective.beta``) sweeps its new key for the config's method, with a note.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds must be >= 1, got {seeds}")
    settle_config(config)
    axes = [_renamed(parse_sweep(s), config.objective.name) for s in sweeps]
    keys = [k for k, _ in axes]
    if len(set(keys)) != len(keys) or "seed" in keys:
        raise ConfigError(f"--sweep keys must be distinct and not 'seed' (use --seeds): {keys}")
    base_seed = int(config.seed)
    members = []
    for combo in itertools.product(*(v for _, v in axes)):
        for i in range(seeds):
            values = dict(zip(keys, combo, strict=True))
            c = _configured(config, values, base_seed + i)
            choose_length(c, values)  # a swept num_steps replaces the config's num_epochs
            values["seed"] = base_seed + i
            name = "_".join(f"{k.split('.')[-1]}={v}" for k, v in values.items())
            members.append(Member(name=name.replace("/", "-"), values=values, config=c))
    return members


def _configured(config: ml_collections.ConfigDict, overrides: dict, seed: int):
    """A copy of ``config`` with ``overrides`` (``{dotted key: value}``) set and ``seed``."""
    c = config.copy_and_resolve_references()
    for k, v in overrides.items():
        set_key(c, k, v)
    c.seed = int(seed)
    return c


def shape_groups(members: list[Member]) -> list[list[Member]]:
    """Members that can share one vmapped step: configs equal except seed and hparam keys."""
    groups: dict[str, list[Member]] = {}
    for m in members:
        flat = flatten(m.config.to_dict())
        ignored = set(hparam_config_keys(m.config)) | {"seed"}
        signature = repr(sorted((k, repr(v)) for k, v in flat.items() if k not in ignored))
        groups.setdefault(signature, []).append(m)
    return list(groups.values())


def member(
    config: ml_collections.ConfigDict, name: str, overrides: dict, seed: int, values: dict
) -> Member:
    """One member: a copy of ``config`` with ``overrides`` (``{dotted key: value}``, each an
    existing key; the method's own group included) set and ``seed``, then settled (the groups the
    member does not use dropped); ``values`` is what its rows report."""
    c = _configured(config, overrides, seed)
    settle_config(c, quiet=True)
    return Member(name=name, values={**values, "seed": int(seed)}, config=c)
