"""Exceptions with messages that say what is wrong and what to do.

Every error a user can cause (bad config, missing data, wrong shapes, non-finite losses, damaged
checkpoints) is raised as one of these; the command-line scripts print ``str(error)`` as a single
line and exit with status 2 instead of a traceback.
"""


class AejaxError(Exception):
    """Base class: a user-facing error whose message is one actionable line."""


class ConfigError(AejaxError, ValueError):
    """An experiment config has an unknown key, a wrong type or an invalid value."""


class DataError(AejaxError, ValueError):
    """A dataset is missing, malformed, or does not match what the model expects."""


class NonFiniteError(AejaxError, FloatingPointError):
    """A loss or gradient became NaN/Inf during training."""


class CheckpointError(AejaxError, RuntimeError):
    """A checkpoint is missing, incomplete, or does not match the run's config."""


class WorkdirError(AejaxError, FileNotFoundError):
    """A workdir is missing, holds nothing of a run, or holds a damaged file."""


class StoppedBySignal(Exception):
    """A run stopped early on SIGTERM or Ctrl-C after saving what a rerun continues from.

    Not an error: the command-line scripts print the message on stdout and exit 0.
    """
