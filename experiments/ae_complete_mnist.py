"""Exactly complete deterministic AE on MNIST (784-unit code).

The variant ``complete`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:complete``. This file is kept so that
``--config experiments/ae_complete_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("complete")
