"""Shared command-line plumbing: user errors become one line on stderr and exit status 2.

A training stopped by SIGTERM or Ctrl-C (:class:`aejax.errors.StoppedBySignal`, after its
checkpoint committed) prints its one line on stdout and exits 0; a Ctrl-C anywhere else prints
``error: interrupted`` and exits 130, without a traceback.

Bad flags (an unknown ``--config.KEY``, a value of the wrong type) are reported the same way as
errors raised while running: ``error: <what is wrong>`` on one line, exit status 2, no traceback.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sys

import ml_collections
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


def console_on_first_process_only() -> None:
    """With several processes (``AEJAX_MULTIHOST=1``), only the first prints to stdout.

    Every process runs the same command, so its progress and result lines would appear once per
    host; errors (stderr) still come from every process, since each may fail on its own.
    """
    import jax

    if jax.process_index() != 0:
        sys.stdout = _Discard()


class _Discard(io.TextIOBase):
    """A text stream that drops what it is given (stdout of the processes after the first)."""

    def write(self, text: str) -> int:
        return len(text)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with errors raised as one-line :class:`ConfigError`\\ s.

    A config flag (``--config FILE``) whose file could not be loaded is reported here, before
    ``main`` runs: ml_collections only raises that error when the config is first used.
    """
    try:
        rest = flags.FLAGS(argv)
    except flags.Error as e:
        raise ConfigError(flag_error_message(str(e))) from e
    except OSError as e:
        # An override (--config.KEY=V) of a config file that could not be loaded.
        raise _config_file_error(e, argv) from e
    except (AttributeError, KeyError) as e:
        if "attribute 'get_config'" in str(e):
            name = next((f.name for f in _config_flags()), "config")
            raise ConfigError(
                f"--{name} {_given_filename(flags.FLAGS[name], argv)} has no get_config(); an "
                "experiment file defines get_config() returning a ConfigDict (see experiments/)"
            ) from e
        # ml_collections reports an unknown --config.KEY while absl parses flags.
        reason = str(e).replace("\\n", " ").replace("\n", " ").replace("\\'", "").strip("'\" ")
        raise ConfigError(f"unknown config key in the command line: {reason}") from e
    _check_config_files(argv)
    return rest


def _config_flags() -> list:
    """The ``DEFINE_config_file``/``_dict`` flags (those with ``override_values``)."""
    return [
        flags.FLAGS[name]
        for name in flags.FLAGS
        if hasattr(type(flags.FLAGS[name]), "override_values")
    ]


def _file_problem(path: str) -> str | None:
    """Why the config file ``path`` (``FILE`` or ``FILE:ARG``) cannot be loaded, or None."""
    path = path.split(":", 1)[0]
    if not path:
        return "is empty; give the path of an experiment file, e.g. experiments/vae_mnist.py"
    if not os.path.exists(path):
        return (
            f"{path}: no such file (relative paths start at {os.getcwd()}); give the path of "
            "an experiment file, e.g. experiments/vae_mnist.py"
        )
    if os.path.isdir(path):
        return f"{path} is a directory; give the path of an experiment file inside it"
    if not os.access(path, os.R_OK):
        return f"{path} cannot be read (permission denied)"
    return None


def _given_filename(flag, argv: list[str]) -> str | None:
    """The file named by ``--NAME FILE`` or ``--NAME=FILE`` in ``argv`` (last one wins)."""
    found = None
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{flag.name}="):
            found = arg.split("=", 1)[1]
        elif arg == f"--{flag.name}" and i + 1 < len(argv):
            found = argv[i + 1]
    return found


def _config_file_error(error: OSError, argv: list[str]) -> ConfigError:
    """One line naming the ``--config FILE`` that did not load and why."""
    for flag in _config_flags():
        # ml_collections parses the --config.KEY overrides before it records the file name.
        filename = getattr(flag, "_config_filename", None) or _given_filename(flag, argv)
        problem = None if filename is None else _file_problem(filename)
        if problem:
            return ConfigError(f"--{flag.name} {problem}")
    return ConfigError(f"cannot load the config file: {' '.join(str(error).split())}")


def _check_config_files(argv: list[str]) -> None:
    """Raises a one-line :class:`ConfigError` for a ``--config FILE`` that did not load."""
    for flag in _config_flags():
        if flag.value is None:
            continue  # not given (a required one is reported by absl)
        try:
            flag.value.to_dict  # noqa: B018 -- ml_collections' placeholder raises on any access
        except OSError as e:
            raise _config_file_error(e, argv) from e


def experiment_config(flag_holder) -> ml_collections.ConfigDict:
    """The value of a ``--config`` flag with the command line's choice of training length.

    ``--config.train.num_steps=N`` (or ``num_epochs``) given on the command line, without the
    other, replaces the length the config file set, whichever key it used
    (:func:`aejax.defaults.choose_length`); a config file that sets both is still refused.
    """
    from aejax.defaults import choose_length

    overrides = flags.FLAGS[flag_holder.name].override_values
    return choose_length(flag_holder.value, overrides)


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
    if "Traceback (most recent call last)" in reason:  # a config file's get_config raised
        raised = list(re.finditer(r"\b\w*(?:Error|Exception): ", reason))
        if raised:
            reason = reason[raised[-1].end() :]
    expected = next((what for needle, what in _EXPECTED if needle in reason), None)
    if expected:
        return f"{key} must be {expected}, got {value!r} (from --config.{key}={value})"
    return f"--{key}={value} is not valid: {reason}"
