"""Exactly complete deterministic autoencoder on MNIST: a 784-unit code.

Same as ae_undercomplete_mnist with model.latent_dim = 784, the input dimension.

  python scripts/train.py --config experiments/ae_complete_mnist.py --workdir runs/ae_complete_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 784
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    return c
