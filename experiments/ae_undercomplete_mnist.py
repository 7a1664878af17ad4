"""Undercomplete deterministic AE on MNIST (32-unit code).

The variant ``undercomplete`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:undercomplete``. This file is kept so that
``--config experiments/ae_undercomplete_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("undercomplete")
