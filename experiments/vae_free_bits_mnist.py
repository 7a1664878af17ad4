"""VAE on MNIST with free bits, 0.25 nats per dimension: ``experiments/vae_mnist.py:free_bits``.

Kept so that ``--config experiments/vae_free_bits_mnist.py``
goes on working; the variant is defined in experiments/vae_mnist.py.
"""

from experiments import vae_mnist


def get_config():
    return vae_mnist.get_config("free_bits")
