"""Preemption (SIGTERM) handling and the fault injection the crash tests use.

Cloud schedulers announce preemption with SIGTERM and kill the process some seconds later.
:class:`StopRequest` turns SIGTERM into a flag; the loop checks it between chunks (a chunk is one
compiled loop of at most ``train.steps_per_call`` steps, which cannot be interrupted), saves, waits
for the save to commit and returns, so the process exits 0 and a rerun continues from that step.

``AEJAX_DEBUG_KILL_AT=<step>`` makes a training process send itself SIGKILL right after step
``<step>``; ``<step>:save`` does it inside the checkpoint save at that step, after the arrays are
written and before the checkpoint is committed. The tests use this to kill a run at exact points;
SIGKILL cannot be caught, so the process dies exactly as under ``kill -9``.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_KILL_AT = "AEJAX_DEBUG_KILL_AT"


class StopRequest:
    """Context manager: while active, SIGTERM sets :attr:`requested` instead of killing.

    Only the main thread can install signal handlers; elsewhere (e.g. a library call from a worker
    thread) it does nothing and SIGTERM keeps its default action.
    """

    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,)):
        self.signals = signals
        self.requested: int | None = None  # the signal number once one arrived
        self._previous: dict[int, object] = {}

    def _handler(self, signum, frame) -> None:
        del frame
        self.requested = signum

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for s in self.signals:
                self._previous[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for s, previous in self._previous.items():
            signal.signal(s, previous)
        self._previous = {}


def kill_point() -> tuple[int, str] | None:
    """``(step, "step" | "save")`` from ``$AEJAX_DEBUG_KILL_AT``, or None when unset."""
    value = os.environ.get(ENV_KILL_AT, "").strip()
    if not value:
        return None
    step, _, phase = value.partition(":")
    return int(step), phase or "step"


def maybe_kill(phase: str, step: int) -> None:
    """SIGKILLs this process when ``$AEJAX_DEBUG_KILL_AT`` names ``step`` and ``phase``."""
    point = kill_point()
    if point is not None and point == (step, phase):
        os.kill(os.getpid(), signal.SIGKILL)
