"""Overcomplete deterministic AE on MNIST (1000-unit code).

The variant ``overcomplete`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:overcomplete``. This file is kept so that
``--config experiments/ae_overcomplete_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("overcomplete")
