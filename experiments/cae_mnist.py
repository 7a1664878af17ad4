"""Contractive AE on MNIST (Rifai et al. 2011).

The variant ``contractive`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:contractive``. This file is kept so that
``--config experiments/cae_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("contractive")
