"""Reading and checking config values: every failure is one :class:`ConfigError` line that
names the key, the value and what would be valid."""

from __future__ import annotations

from collections.abc import Mapping

import ml_collections

from aejax.errors import ConfigError
from aejax.types import Option


def choice(value: str, valid: tuple[str, ...], key: str) -> str:
    if value not in valid:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of {', '.join(valid)}")
    return value


def positive(value, key: str, *, allow_zero: bool = False):
    if value is None or (value < 0 if allow_zero else value <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key} must be {bound}, got {value!r}")
    return value


def get(config: ml_collections.ConfigDict, key: str):
    """``config`` at the dotted ``key`` (``"data.num_labelled"``)."""
    for part in key.split("."):
        config = config[part]
    return config


def option(group: ml_collections.ConfigDict, spec: Option, prefix: str):
    """The value of ``spec`` in ``group`` (the config group ``prefix`` names), checked."""
    key, value = f"{prefix}.{spec.key}", group[spec.key]
    if spec.choices:
        return choice(value, spec.choices, key)
    if spec.kind == "number":
        return positive(value, key)
    if spec.kind == "widths":
        widths = tuple(value)
        if any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in widths):
            raise ConfigError(f"{key} must list integer widths > 0, got {widths!r}")
        return widths
    if isinstance(value, bool) or not isinstance(value, int) or value < spec.minimum:
        raise ConfigError(f"{key} must be an integer >= {spec.minimum}, got {value!r}")
    return value


def options(group: ml_collections.ConfigDict, specs: Mapping[str, Option], prefix: str) -> dict:
    """``{argument: value}`` for each option ``specs`` declares, read from ``group``."""
    return {arg: option(group, spec, prefix) for arg, spec in specs.items()}
