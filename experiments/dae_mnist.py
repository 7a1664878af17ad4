"""Denoising AE on MNIST (Vincent et al. 2008), masking noise.

The variant ``denoising`` of experiments/ae_mnist.py, where it is defined and documented; use
``--config experiments/ae_mnist.py:denoising``. This file is kept so that
``--config experiments/dae_mnist.py`` goes on working.
"""

from experiments import ae_mnist


def get_config():
    return ae_mnist.get_config("denoising")
