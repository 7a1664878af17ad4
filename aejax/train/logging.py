"""Metric output: ``metrics.jsonl`` (one JSON object per logged step) and TensorBoard events.

TensorBoard files are written with tensorboardX, which needs no TensorFlow.
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
from collections.abc import Mapping

import numpy as np


class MetricWriter:
    """Appends ``{"step": s, **scalars}`` to ``metrics.jsonl`` and to TensorBoard under ``tb/``."""

    def __init__(self, workdir: str | pathlib.Path):
        workdir = pathlib.Path(workdir)
        self._jsonl = open(workdir / "metrics.jsonl", "a", buffering=1)  # noqa: SIM115
        self._tb = _summary_writer_class()(str(workdir / "tb"), flush_secs=30)

    def write(self, step: int, scalars: Mapping[str, float], prefix: str = "train") -> None:
        clean = {k: _to_json_number(v) for k, v in scalars.items()}
        self._jsonl.write(json.dumps({"step": int(step), **clean}) + "\n")
        for k, v in clean.items():
            if v is not None:
                self._tb.add_scalar(f"{prefix}/{k}", v, int(step))

    def close(self) -> None:
        self._jsonl.close()
        self._tb.close()


def _summary_writer_class():
    """tensorboardX's SummaryWriter, imported without letting it import torch.

    tensorboardX imports torch whenever it is installed (only to accept torch tensors, which aejax
    never passes); blocking that keeps PyTorch out of aejax and saves seconds of start-up.
    """
    if "torch" in sys.modules:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    sys.modules["torch"] = (
        None  # makes `import torch` raise ImportError, which tensorboardX handles
    )
    try:
        from tensorboardX import SummaryWriter
    finally:
        del sys.modules["torch"]
    return SummaryWriter


def _to_json_number(v) -> float | None:
    v = float(np.asarray(v))
    return v if math.isfinite(v) else None


def read_jsonl(path: str | pathlib.Path) -> list[dict]:
    """Every object in a metrics.jsonl file (tolerates a torn last line after a crash)."""
    rows = []
    for line in pathlib.Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
