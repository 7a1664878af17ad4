"""Contractive autoencoder on MNIST (Rifai et al. 2011).

reconstruction + contractive_weight * ||d z / d x||_F^2 per example, through jax autodiff
(one VJP per code unit, so cost grows with model.latent_dim).

  python scripts/train.py --config experiments/cae_mnist.py --workdir runs/cae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 64
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    c.objective.contractive_weight = 0.1
    return c
