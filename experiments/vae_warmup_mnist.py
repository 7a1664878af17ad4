"""VAE on MNIST with linear KL warm-up over 2 epochs: ``experiments/vae_mnist.py:warmup``.

Kept so that ``--config experiments/vae_warmup_mnist.py``
goes on working; the variant is defined in experiments/vae_mnist.py.
"""

from experiments import vae_mnist


def get_config():
    return vae_mnist.get_config("warmup")
