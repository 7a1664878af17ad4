"""The evaluation suite of ``scripts/evaluate.py``: the chosen parts run in order over one
:class:`Context`.

Each part is an :class:`~aejax.evaluation.parts.Evaluator` (:data:`aejax.evaluation.parts.
EVALUATORS`) returning ``(results, plots)``: a JSON-able dict stored under its name in
``eval.json`` (``likelihood`` also keeps the flat ``<split>_*`` keys) and the PNG files it wrote;
a part that does not apply returns ``{"skipped": reason}`` and the console says
``[part] skipped: reason``. How much work each part does comes from :class:`Settings`, filled
from an evaluation profile (:mod:`aejax.evaluation.profiles`) and the command line.
"""

from __future__ import annotations

import os
import time

from aejax.evaluation.parts import EVALUATORS, PARTS
from aejax.evaluation.parts.base import (
    Context,
    Settings,
    Stages,
    encode_all,
    representation_fn,
    settings_for,
)
from aejax.evaluation.profiles import PROFILES

__all__ = [
    "PARTS",
    "Context",
    "Settings",
    "Stages",
    "encode_all",
    "parse_suite",
    "representation_fn",
    "run_suite",
    "settings_for",
]


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
        out, files = EVALUATORS[name].run(ctx)
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
