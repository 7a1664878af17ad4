"""Config keys that moved, and how a config given with the old names is read today.

The old flat schema kept every bound's numbers in ``objective`` under names that meant different
things for different methods (``objective.beta`` was the ELBO's KL weight and beta-TCVAE's TC
weight; ``gamma`` FactorVAE's TC weight and the capacity VAE's weight; ``lam`` the MMD or the
adversarial weight of the WAEs and AAE). Each now lives in the group of its method with a name
that says what it weighs. :data:`RENAMED` maps every old key to its new key per method; an old
key given on the command line, in a config file, in a sweep or in a saved ``config.json`` is moved
there with one ``note:`` line on stderr, or dropped when the run's method does not read it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import ml_collections
from ml_collections import config_dict

# old key -> {objective.name: new key}. A method missing from a row does not read that key.
_ELBO = ("elbo",)
RENAMED: Mapping[str, Mapping[str, str]] = {
    "objective.beta": {"elbo": "elbo.beta", "beta_tcvae": "beta_tcvae.tc_weight"},
    "objective.gamma": {
        "factor_vae": "factor_vae.tc_weight",
        "capacity_vae": "capacity_vae.weight",
    },
    "objective.lam": {
        "wae_mmd": "wae_mmd.weight",
        "wae_gan": "wae_gan.adversarial_weight",
        "aae": "aae.adversarial_weight",
    },
    "objective.alpha": {"m2": "m2.classification_weight"},
    **{
        f"objective.{k}": {"elbo": f"elbo.{k}"}
        for k in (
            "kl_schedule",
            "kl_warmup_steps",
            "kl_cycle_steps",
            "kl_cycle_ratio",
            "free_bits",
            "free_bits_groups",
        )
    },
    "objective.capacity_max": {"capacity_vae": "capacity_vae.capacity_max"},
    "objective.capacity_steps": {"capacity_vae": "capacity_vae.capacity_steps"},
    "objective.num_samples": {"iwae": "iwae.num_samples"},
    "objective.tc_estimator": {"beta_tcvae": "beta_tcvae.tc_estimator"},
    "objective.mi_weight": {"beta_tcvae": "beta_tcvae.mi_weight"},
    "objective.dwkl_weight": {"beta_tcvae": "beta_tcvae.dwkl_weight"},
}
# The old keys' types and defaults (an old key left at its default by a method that does not read
# it is dropped without a note).
OLD_DEFAULTS: Mapping[str, object] = {
    "objective.beta": 1.0,
    "objective.gamma": 10.0,
    "objective.lam": 1.0,
    "objective.alpha": 0.1,
    "objective.kl_schedule": "constant",
    "objective.kl_warmup_steps": 10000,
    "objective.kl_cycle_steps": 10000,
    "objective.kl_cycle_ratio": 0.5,
    "objective.free_bits": 0.0,
    "objective.free_bits_groups": 0,
    "objective.capacity_max": 25.0,
    "objective.capacity_steps": 100000,
    "objective.num_samples": 5,
    "objective.tc_estimator": "mss",
    "objective.mi_weight": 1.0,
    "objective.dwkl_weight": 1.0,
}


def legacy_placeholders() -> dict:
    """``{leaf: unset placeholder}`` for the old ``objective`` keys, so that a locked config still
    parses them (``--config.objective.gamma=10``) before :func:`translate` moves them."""
    return {
        key.split(".", 1)[1]: config_dict.placeholder(type(value))
        for key, value in OLD_DEFAULTS.items()
    }


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def _move(old: str, value, method: str) -> tuple[str | None, str | None]:
    """``(new key or None, note or None)`` for the old key ``old`` set to ``value``."""
    new = RENAMED[old].get(method)
    if new is not None:
        return new, f"note: {old} is now {new} for {method}; use --config.{new}={_show(value)}"
    if value == OLD_DEFAULTS[old]:
        return None, None
    where = ", ".join(f"{n} for {m}" for m, n in RENAMED[old].items())
    return None, (
        f"note: {old}={_show(value)} ignored: objective.name={method!r} does not read it (it is "
        f"now {where})"
    )


def translate(config: ml_collections.ConfigDict, *, quiet: bool = False) -> list[str]:
    """Moves every old key set in ``config`` to its new key (in place) and deletes the old keys.

    An old key's value replaces the new key's: old command lines and sweeps override the config
    file's value. Returns the notes (also printed on stderr unless ``quiet``).
    """
    method = config.objective.name
    notes = []
    with config.unlocked():
        for old in RENAMED:
            leaf = old.split(".", 1)[1]
            if leaf not in config.objective:
                continue
            value = config.objective[leaf]
            del config.objective[leaf]
            if value is None:
                continue
            new, note = _move(old, value, method)
            if new is not None:
                group, key = new.split(".")
                config[group][key] = value
            if note:
                notes.append(note)
    for note in [] if quiet else notes:
        print(note, file=sys.stderr)
    return notes


def translate_flat(flat: Mapping[str, object], *, quiet: bool = True) -> tuple[dict, list[str]]:
    """``translate`` for a flattened config (a saved ``config.json``, a manifest): returns the
    dict with new keys and the notes (printed on stderr unless ``quiet``)."""
    method = flat.get("objective.name", "elbo")
    out, notes = {}, []
    for key, value in flat.items():
        if key not in RENAMED:
            out[key] = value
            continue
        if value is None:
            continue
        new, note = _move(key, value, method)
        if new is not None:
            out[new] = value
        if note:
            notes.append(note)
    for note in [] if quiet else notes:
        print(note, file=sys.stderr)
    return out, notes


def new_key(key: str, method: str) -> str:
    """The key ``key`` names today for ``method`` (``key`` itself unless it moved); an old key that
    ``method`` does not read is returned unchanged."""
    return RENAMED.get(key, {}).get(method, key)


def translated(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``config`` itself when it sets no old key, else a copy with them moved (notes on
    stderr): the build functions accept a config made with the old names in Python too."""
    group = config.get("objective") or {}
    if all(group.get(old.split(".", 1)[1]) is None for old in RENAMED):
        return config
    config = config.copy_and_resolve_references()
    translate(config)
    return config
