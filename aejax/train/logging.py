"""Metric output: ``metrics.jsonl`` (one JSON object per logged step) and TensorBoard events.

TensorBoard files are written with tensorboardX, which needs no TensorFlow; on a bucket its
event files go through :mod:`aejax.paths` like every other file.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping

import numpy as np

from aejax import paths


class MetricWriter:
    """Appends ``{"step": s, **scalars}`` to ``metrics.jsonl`` and to TensorBoard under ``tb/``."""

    def __init__(self, workdir: paths.PathLike, *, flush_secs: float = 30.0):
        workdir = paths.resolve(workdir)
        self._jsonl = paths.AppendFile(workdir / "metrics.jsonl", flush_secs=flush_secs)
        writer_class = _summary_writer_class()
        paths.register_tensorboard_scheme(workdir)
        self._tb = writer_class(str(workdir / "tb"), flush_secs=flush_secs)

    def write(self, step: int, scalars: Mapping[str, float], prefix: str | None = "train") -> None:
        """One row; TensorBoard tags are ``prefix/name``, or the names as they are when
        ``prefix`` is ``None`` (evaluation rows, whose names say their split)."""
        clean = {k: _to_json_number(v) for k, v in scalars.items()}
        self._jsonl.write(json.dumps({"step": int(step), **clean}) + "\n")
        for k, v in clean.items():
            if v is not None:
                self._tb.add_scalar(k if prefix is None else f"{prefix}/{k}", v, int(step))

    def flush(self) -> None:
        """Makes every row written so far durable (the loop calls it before each checkpoint)."""
        self._jsonl.flush()
        self._tb.flush()

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


def read_jsonl(path: paths.PathLike) -> list[dict]:
    """Every object in a metrics.jsonl file (tolerates a torn last line after a crash)."""
    rows = []
    for line in paths.read_text(path).splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
