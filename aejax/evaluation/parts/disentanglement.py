"""The disentanglement part: metrics against ground-truth factors (needs factors)."""

from __future__ import annotations

import logging

from aejax.evaluation.parts.base import Context, Evaluator, representation_fn

log = logging.getLogger("aejax.evaluate")


def run(ctx: Context):
    ds = ctx.split("test")
    s = ctx.settings
    if not ds.info.factor_names:
        return {"skipped": "the data has no ground-truth factors"}, []
    try:
        from aejax.evaluation import disentanglement
    except ImportError as e:
        log.warning("disentanglement metrics skipped: %s", e)
        return {"skipped": f"aejax.evaluation.disentanglement is not available: {e}"}, []
    protocol = disentanglement.get_protocol(
        s.disentanglement_protocol,
        num_train=s.disentanglement_num_train,
        num_test=s.disentanglement_num_test,
    )
    res = disentanglement.compute_all(
        representation_fn(ctx.model, ctx.variables, s.batch_size),
        resolution=int(ds.info.shape[0]),
        seed=ctx.seed,
        protocol=protocol,
        progress=s.progress,
    )
    out = {
        "protocol": protocol.name,
        "protocol_settings": protocol.record(),
        "num_train": protocol.num_train,
        "num_test": protocol.num_test,
        "metrics": res,
    }
    asked = (s.disentanglement_num_train, s.disentanglement_num_test)
    if protocol.fixed_sizes and asked != (protocol.num_train, protocol.num_test):
        out["notes"] = [
            f"the {protocol.name} protocol fixes its sample sizes ({protocol.num_train} / "
            f"{protocol.num_test} combinations); the settings' {asked[0]} / {asked[1]} do not "
            "apply"
        ]
    return out, []


EVALUATOR = Evaluator(name="disentanglement", run=run)
