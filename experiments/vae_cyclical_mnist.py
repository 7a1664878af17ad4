"""VAE on MNIST with the cyclical KL schedule: ``experiments/vae_mnist.py:cyclical``.

Kept so that ``--config experiments/vae_cyclical_mnist.py``
goes on working; the variant is defined in experiments/vae_mnist.py.
"""

from experiments import vae_mnist


def get_config():
    return vae_mnist.get_config("cyclical")
