"""Stopping a run on SIGTERM or Ctrl-C (SIGINT), and the fault injection the crash tests use.

Cloud schedulers announce preemption with SIGTERM and kill the process some seconds later; a
person at a terminal presses Ctrl-C. :class:`StopRequest` turns either signal into a flag; the
loop checks it between chunks (a chunk is one compiled loop of at most ``train.steps_per_call``
steps, which cannot be interrupted), saves, waits for the save to commit and returns, so the
process exits 0 and a rerun of the same command continues from that step. ``summary.json``
records the signal (``stopped_by``) and the step the run had reached when it arrived
(``signal_received_at_step``: the start of the chunk that was running), so the stop step is at
most ``steps_per_call`` after it.

A second Ctrl-C while the first is being honoured (during the last chunk or the final save)
stops the process at once: one line ``error: interrupted again; ...`` on stderr saying which
checkpoint is intact, exit status 130, no save, no waiting. A save cut short this way is left as
orbax's ``<step>.orbax-checkpoint-tmp`` directory, which is never a checkpoint, so the previous
checkpoint is the one a rerun resumes from. A repeated SIGTERM changes nothing (the stop is
already under way; a scheduler that loses patience sends SIGKILL). A SIGINT that is ignored when
the run starts (a background job of a non-interactive shell, ``nohup``) stays ignored.

Fault injection (environment variables read by the training loop and the checkpointer):

``AEJAX_DEBUG_KILL_AT=<step>`` makes a training process send itself SIGKILL right after step
``<step>``; ``<step>:save`` does it inside the checkpoint save at that step, after the arrays are
written and before the checkpoint is committed. The tests use this to kill a run at exact points;
SIGKILL cannot be caught, so the process dies exactly as under ``kill -9``.

``AEJAX_DEBUG_SIGNAL_AT=<point>[,<point>...]`` makes it send itself signals, each ``<point>``
being ``<step>:<SIGNAL>`` or ``<step>:save:<SIGNAL>`` (``SIGNAL``: ``SIGINT`` or ``SIGTERM``).
``<step>:<SIGNAL>`` is delivered while the chunk that takes the run past step ``<step>`` (from
``a`` to ``b`` with ``a < <step> <= b``) is in flight, after it was dispatched and before its
results are read; the run then stops at ``b``, as it would for a signal from outside at that
time. Chunk lengths are left as they are. ``<step>:save:<SIGNAL>`` is delivered to the main
thread inside the save of the checkpoint at ``<step>``, at the same point as ``<step>:save`` of
``AEJAX_DEBUG_KILL_AT``, and the save waits until the handler has run, so a second SIGINT there
is deterministically "during the save". Example: ``9:SIGINT,12:save:SIGINT`` with
``steps_per_call=4`` interrupts the chunk 8->12, then interrupts the final save at 12.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from aejax.errors import ConfigError, StoppedBySignal

ENV_KILL_AT = "AEJAX_DEBUG_KILL_AT"
ENV_SIGNAL_AT = "AEJAX_DEBUG_SIGNAL_AT"
# How long an injected signal inside a save waits for its handler (a hang guard: the handler
# runs as soon as the main thread is interrupted).
_HANDLER_WAIT_S = 120.0

_active: StopRequest | None = None  # the StopRequest installed in this process, if any


class StopRequest:
    """Context manager: while active, SIGTERM and SIGINT set :attr:`requested` instead of killing.

    The caller keeps :attr:`step` at the step the run has completed, so that the handler can
    record where the signal arrived (:attr:`received_at`), and may set :attr:`describe_abort`: a
    function returning the ``error:`` line (without ``error:``) printed when a second SIGINT stops
    the process at once.

    Only the main thread can install signal handlers; elsewhere (e.g. a library call from a worker
    thread) it does nothing and the signals keep their previous action.
    """

    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)):
        self.signals = signals
        self.requested: int | None = None  # the signal number once one arrived
        self.received_at: int | None = None  # self.step when it arrived
        self.step: int = 0
        self.describe_abort: Callable[[], str] = lambda: (
            f"interrupted again; stopped at once at step {self.step} without saving"
        )
        # True while a progress bar holds the terminal's last line (its lines then start anew).
        self.line_open = False
        self.handled = 0  # signals handled so far (the fault injection waits on it)
        self._previous: dict[int, object] = {}
        self._outer: StopRequest | None = None

    @property
    def signal_name(self) -> str | None:
        return None if self.requested is None else signal.Signals(self.requested).name

    def _handler(self, signum, frame) -> None:
        del frame
        try:
            if self.requested is None:
                self.requested = signum
                self.received_at = self.step
                how = "press Ctrl-C again to stop at once without saving"
                self._say(
                    f"{signal.Signals(signum).name} received at step {self.step}: finishing the "
                    "current chunk, then saving" + (f" ({how})" if signum == signal.SIGINT else "")
                )
            elif signum == signal.SIGINT:
                self._abort()
        finally:
            self.handled += 1

    def _abort(self) -> None:
        """Second Ctrl-C: one line, exit status 130, now (no save, no waiting, no cleanup)."""
        try:
            message = self.describe_abort()
        except Exception as e:  # the line must come out whatever the description tripped on
            message = f"interrupted again; stopped at once ({type(e).__name__} describing why)"
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # e.g. a buffered write was itself interrupted
                pass
        self._say(f"error: {message}")
        os._exit(128 + signal.SIGINT)

    def _say(self, line: str) -> None:
        """One line on stderr, written with ``os.write``: safe in a signal handler that may have
        interrupted a buffered write to ``sys.stderr`` (e.g. the progress bar's)."""
        try:
            os.write(2, (("\n" if self.line_open else "") + line + "\n").encode())
        except OSError:
            pass

    def __enter__(self) -> StopRequest:
        global _active
        if threading.current_thread() is threading.main_thread():
            for s in self.signals:
                if s == signal.SIGINT and signal.getsignal(s) == signal.SIG_IGN:
                    continue  # started with Ctrl-C ignored on purpose (background job, nohup)
                self._previous[s] = signal.signal(s, self._handler)
            self._outer, _active = _active, self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        for s, previous in self._previous.items():
            signal.signal(s, previous)
        if self._previous or _active is self:
            _active = self._outer
        self._previous = {}


def stop_message(summary: dict, where: str = "") -> str | None:
    """The one line saying that the run of ``summary`` stopped on a signal (None if it did not);
    ``where`` (e.g. ``" of member seed=1"``) follows the step."""
    if not summary.get("preempted"):
        return None
    if "runs_finished" in summary:  # the graph trainer saves whole runs, not steps
        return (
            f"stopped by {summary['stopped_by']} in run {summary['run']} at step "
            f"{summary['step']}{where}; {summary['runs_finished']} finished run(s) are saved; "
            f"rerun the same command to continue (run {summary['run']} starts over)"
        )
    return (
        f"stopped by {summary['stopped_by']} at step {summary['step']}{where}; the checkpoint "
        "at that step is committed; rerun the same command to continue"
    )


def raise_if_stopped(summary: dict, where: str = "") -> None:
    """Raises :class:`StoppedBySignal` when the run of ``summary`` stopped on a signal, so that a
    script running several trainings stops too (rather than evaluate an unfinished run)."""
    message = stop_message(summary, where)
    if message is not None:
        raise StoppedBySignal(message)


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


def signal_points() -> list[tuple[int, str, signal.Signals]]:
    """``[(step, "step" | "save", signal)]`` from ``$AEJAX_DEBUG_SIGNAL_AT`` ([] when unset).

    Raises:
      ConfigError: a point that is not ``<step>:<SIGNAL>`` or ``<step>:save:<SIGNAL>``.
    """
    value = os.environ.get(ENV_SIGNAL_AT, "").strip()
    points = []
    for item in filter(None, (x.strip() for x in value.split(","))):
        parts = item.split(":")
        try:
            if len(parts) == 2:
                step, phase, name = parts[0], "step", parts[1]
            elif len(parts) == 3 and parts[1] == "save":
                step, phase, name = parts[0], "save", parts[2]
            else:
                raise ValueError
            points.append((int(step), phase, signal.Signals[name.upper()]))
        except (ValueError, KeyError):
            raise ConfigError(
                f"{ENV_SIGNAL_AT}: {item!r} is not <step>:<SIGNAL> or <step>:save:<SIGNAL>"
            ) from None
    return points


def maybe_signal_in_chunk(first: int, last: int) -> None:
    """Sends the ``$AEJAX_DEBUG_SIGNAL_AT`` signals whose step lies in ``(first, last]`` (the chunk
    from step ``first`` to ``last`` that is in flight) to this thread (call from the main one)."""
    for step, phase, sig in signal_points():
        if phase == "step" and first < step <= last:
            signal.raise_signal(sig)


def maybe_signal_in_save(step: int) -> None:
    """Inside the save at ``step`` (any thread): sends the ``<step>:save`` signals to the main
    thread and waits until its handler has run, so the signal lands before the save commits."""
    for at, phase, sig in signal_points():
        if phase != "save" or at != step:
            continue
        stop = _active
        before = stop.handled if stop is not None else 0
        signal.pthread_kill(threading.main_thread().ident, sig)
        deadline = time.monotonic() + _HANDLER_WAIT_S
        while stop is not None and stop.handled == before and time.monotonic() < deadline:
            time.sleep(0.01)
