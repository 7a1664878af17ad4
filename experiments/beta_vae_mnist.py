"""beta-VAE on MNIST (Higgins et al. 2017), beta = 4.

The vae_mnist model with the KL weighted by objective.beta.

  python scripts/train.py --config experiments/beta_vae_mnist.py --workdir runs/beta_vae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "elbo"
    c.objective.beta = 4.0
    return c
