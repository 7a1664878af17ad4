"""Sparse AE on MNIST (Ng 2011), KL to a target rate.

The variant ``sparse`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:sparse``. This file is kept so that
``--config experiments/sparse_ae_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("sparse")
