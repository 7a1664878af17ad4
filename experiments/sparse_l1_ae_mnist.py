"""Sparse autoencoder on MNIST with an L1 penalty on the code.

reconstruction + l1_weight * ||z||_1 per example, overcomplete code.

  python scripts/train.py --config experiments/sparse_l1_ae_mnist.py \
      --workdir runs/sparse_l1_ae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 1000
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    c.objective.l1_weight = 0.001
    return c
