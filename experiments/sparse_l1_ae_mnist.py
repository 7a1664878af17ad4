"""Sparse AE on MNIST with an L1 penalty on the code.

The variant ``sparse_l1`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:sparse_l1``. This file is kept so that
``--config experiments/sparse_l1_ae_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("sparse_l1")
