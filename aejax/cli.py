"""Shared command-line plumbing: user errors become one line on stderr and exit status 2.

A training stopped by SIGTERM or Ctrl-C (:class:`aejax.errors.StoppedBySignal`, after its
checkpoint committed) prints its one line on stdout and exits 0; a Ctrl-C anywhere else prints
``error: interrupted`` and exits 130, without a traceback.

Bad flags (an unknown ``--config.KEY``, a value of the wrong type) are reported the same way as
errors raised while running: ``error: <what is wrong>`` on one line, exit status 2, no traceback.
"""

from __future__ import annotations

import os
import re
import signal
import sys

from absl import flags
from absl import logging as absl_logging

from aejax.errors import AejaxError, ConfigError, StoppedBySignal


def run_main(app, main) -> int:
    """Runs an absl ``main``; an :class:`AejaxError` prints ``error: <message>`` and returns 2."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def quiet_main(argv):
        # orbax logs every save at INFO through absl; keep the terminal for the progress bar.
        absl_logging.set_verbosity(absl_logging.WARNING)
        return main(argv)

    try:
        app.run(quiet_main, flags_parser=parse_flags)
    except AejaxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except StoppedBySignal as e:  # SIGTERM / Ctrl-C honoured: the checkpoint is saved
        print(e)
        return 0
    except KeyboardInterrupt:  # Ctrl-C outside training (which saves first: StoppedBySignal)
        print("error: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return 0


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with errors raised as one-line :class:`ConfigError`\\ s."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        raise ConfigError(flag_error_message(str(e))) from e
    except (AttributeError, KeyError) as e:
        # ml_collections reports an unknown --config.KEY while absl parses flags.
        reason = str(e).replace("\\n", " ").replace("\n", " ").replace("\\'", "").strip("'\" ")
        raise ConfigError(f"unknown config key in the command line: {reason}") from e


_EXPECTED = (
    ("for int()", "an integer"),
    ("to float", "a number"),
    ("Non-boolean", "true or false"),
)


def flag_error_message(text: str) -> str:
    """``flag --config.seed=abc: invalid literal for int() ...`` -> a one-line reason."""
    text = " ".join(text.split())
    m = re.match(r"flag --(?:config\.)?([\w.]+)=(.*?): (.*)$", text)
    if not m:
        return f"bad command-line flag: {text}"
    key, value, reason = m.groups()
    expected = next((what for needle, what in _EXPECTED if needle in reason), None)
    if expected:
        return f"{key} must be {expected}, got {value!r} (from --config.{key}={value})"
    return f"--{key}={value} is not valid: {reason}"
