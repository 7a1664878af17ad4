"""Undercomplete deterministic autoencoder on MNIST: 784 -> 500 -> 32 -> 500 -> 784.

A Delta posterior and the reconstruction objective (BCE on grey levels); the 32-unit code is a
bottleneck.

  python scripts/train.py --config experiments/ae_undercomplete_mnist.py \
      --workdir runs/ae_undercomplete_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 32
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    return c
