"""``config.evals``: which evaluation parts the train loop runs, on which split, how often, and
which metric picks the best checkpoint.

The parts themselves live above this layer (:data:`aejax.evaluation.parts.EVALUATORS`); the
caller passes what they declare (``catalogue``), so the checks here need not import them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import ml_collections

from aejax.build.checks import choice, positive
from aejax.errors import ConfigError

SPLITS = ("test", "train")


@dataclasses.dataclass(frozen=True)
class EvalsSettings:
    """``config.evals``, checked."""

    parts: tuple[str, ...]
    split: str
    every_steps: int  # 0 = once per epoch
    iwae_k: int
    iwae_num_examples: int  # 0 = all of num_examples
    num_examples: int  # 0 = the whole split
    keep_best: str  # "<split>/<metric>", or "" (off)


def build_evals(
    config: ml_collections.ConfigDict,
    catalogue: Mapping[str, tuple[str, ...] | None],
) -> EvalsSettings:
    """Checks ``config.evals`` against ``catalogue``: part name -> the metrics (lower is better)
    ``keep_best`` may name, or ``None`` for a part with no numbers to log during training.

    Raises:
      ConfigError: one line naming the key and what would be valid.
    """
    e = config.evals
    names = tuple(t.strip() for t in str(e.periodic).split(",") if t.strip())
    for name in names:
        if name not in catalogue:
            raise ConfigError(
                f"evals.periodic={e.periodic!r}: unknown part {name!r}; choose a comma-separated "
                f"list of {', '.join(n for n, m in catalogue.items() if m is not None)}, or ''"
            )
        if catalogue[name] is None:
            raise ConfigError(
                f"evals.periodic={e.periodic!r}: part {name!r} logs no numbers during training; "
                f"run it after training with scripts/evaluate.py --suite={name}"
            )
    split = choice(e.split, SPLITS, "evals.split")
    settings = EvalsSettings(
        parts=tuple(n for n in catalogue if n in names),  # the registry's order
        split=split,
        every_steps=int(positive(e.every_steps, "evals.every_steps", allow_zero=True)),
        iwae_k=int(positive(e.iwae_k, "evals.iwae_k", allow_zero=True)),
        iwae_num_examples=int(
            positive(e.iwae_num_examples, "evals.iwae_num_examples", allow_zero=True)
        ),
        num_examples=int(positive(e.num_examples, "evals.num_examples", allow_zero=True)),
        keep_best=str(e.keep_best),
    )
    if settings.keep_best:
        metrics = [f"{split}/{m}" for n in settings.parts for m in catalogue[n]]
        if config.model.posterior == "delta":  # no density: reconstruction metrics only
            metrics = [m for m in metrics if m.split("/")[1].startswith("recon")]
        if settings.keep_best not in metrics:
            raise ConfigError(
                f"evals.keep_best={settings.keep_best!r} is not a metric the periodic evaluation "
                f"(evals.periodic={e.periodic!r}, evals.split={split!r}) logs; choose one of "
                f"{', '.join(metrics) or '(none: set evals.periodic)'}, or ''"
            )
    return settings
