"""Shared command-line plumbing: user errors become one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys

from absl import logging as absl_logging

from aejax.errors import AejaxError


def run_main(app, main) -> int:
    """Runs an absl ``main``; an :class:`AejaxError` prints ``error: <message>`` and returns 2."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    started = []

    def quiet_main(argv):
        started.append(True)
        # orbax logs every save at INFO through absl; keep the terminal for the progress bar.
        absl_logging.set_verbosity(absl_logging.WARNING)
        return main(argv)

    try:
        app.run(quiet_main)
    except AejaxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (AttributeError, KeyError) as e:
        if started:
            raise
        # ml_collections reports an unknown --config.KEY while absl parses flags.
        reason = str(e).replace("\\n", " ").replace("\n", " ").replace("\\'", "").strip("'\" ")
        print(f"error: unknown config key in the command line: {reason}", file=sys.stderr)
        return 2
    return 0
