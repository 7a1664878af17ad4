"""The evaluation parts, one module each, every one an :class:`Evaluator` in :data:`EVALUATORS`.

``scripts/evaluate.py`` runs any of them after training (:mod:`aejax.evaluation.suite`); the
train loop runs those with scalars periodically (:mod:`aejax.evaluation.periodic`). A new part
is a module exporting ``EVALUATOR`` and one line here.
"""

from aejax.evaluation.parts import (
    anomaly,
    clustering,
    collapse,
    disentanglement,
    images,
    latent,
    likelihood,
    robustness,
    transfer,
)
from aejax.evaluation.parts.base import Context, Evaluator, Settings, Stages, encode_all

# In the order they run (and appear in eval.json and the report).
EVALUATORS: dict[str, Evaluator] = {
    e.name: e
    for e in (
        likelihood.EVALUATOR,
        images.EVALUATOR,
        latent.EVALUATOR,
        clustering.EVALUATOR,
        transfer.EVALUATOR,
        robustness.EVALUATOR,
        anomaly.EVALUATOR,
        collapse.EVALUATOR,
        disentanglement.EVALUATOR,
    )
}
PARTS = tuple(EVALUATORS)

__all__ = ["EVALUATORS", "PARTS", "Context", "Evaluator", "Settings", "Stages", "encode_all"]
