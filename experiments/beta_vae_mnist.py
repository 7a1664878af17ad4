"""beta-VAE on MNIST (Higgins et al. 2017), beta = 4.

The vae_mnist model with the KL weighted by objective.beta.

  python scripts/train.py --config experiments/beta_vae_mnist.py --workdir runs/beta_vae_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "dynamic"
    c.model.latent_dim = 20
    c.model.posterior = "gaussian"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "elbo"
    c.objective.beta = 4.0
    return c
