"""DIP-VAE-II on MNIST (Kumar et al. 2018): lambda_od = lambda_d = 10.

The ELBO plus the penalty on Cov[mu(x)] + E[diag sigma^2(x)] over the batch.

  python scripts/train.py --config experiments/dip_vae_ii_mnist.py --workdir runs/dip_vae_ii_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.dip_type = "ii"
    c.objective.dip_lambda_od = 10.0
    c.objective.dip_lambda_d = 10.0
    return c
