"""Sparse autoencoder on MNIST (Ng 2011): KL of the mean sigmoid code to a target rate.

Overcomplete code; the penalty is sparsity_weight * sum_j KL(0.05 || mean_b sigmoid(z_bj)).
For an L1 penalty instead: --config.objective.sparsity_weight=0 --config.objective.l1_weight=1e-3
(or experiments/sparse_l1_ae_mnist.py).

  python scripts/train.py --config experiments/sparse_ae_mnist.py --workdir runs/sparse_ae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 1000
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    c.objective.sparsity_weight = 3.0
    c.objective.sparsity_target = 0.05
    return c
