"""beta-VAE on MNIST (Higgins et al. 2017), beta = 4: ``experiments/vae_mnist.py:beta4``.

Kept so that ``--config experiments/beta_vae_mnist.py``
goes on working; the variant is defined in experiments/vae_mnist.py.
"""

from experiments import vae_mnist


def get_config():
    return vae_mnist.get_config("beta4")
