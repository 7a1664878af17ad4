"""DIP-VAE-I on MNIST (Kumar et al. 2018): lambda_od = 10, lambda_d = 100.

The ELBO plus the penalty on Cov[mu(x)] over the batch.

  python scripts/train.py --config experiments/dip_vae_i_mnist.py --workdir runs/dip_vae_i_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.dip_lambda_od = 10.0
    c.objective.dip_lambda_d = 100.0
    c.objective.dip_type = "i"
    return c
