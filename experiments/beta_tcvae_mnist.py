"""beta-TCVAE on MNIST (Chen et al. 2018): alpha = gamma = 1, beta = 6.

Minibatch stratified sampling; the dataset size comes from the training set. For minibatch
weighted sampling: --config.beta_tcvae.tc_estimator=mws.

  python scripts/train.py --config experiments/beta_tcvae_mnist.py --workdir runs/beta_tcvae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "beta_tcvae"
    c.beta_tcvae.tc_weight = 6.0
    c.beta_tcvae.tc_estimator = "mss"
    return c
