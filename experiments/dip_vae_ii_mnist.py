"""DIP-VAE-II on MNIST (Kumar et al. 2018): lambda_od = lambda_d = 10.

The ELBO plus the penalty on Cov[mu(x)] + E[diag sigma^2(x)] over the batch.

  python scripts/train.py --config experiments/dip_vae_ii_mnist.py --workdir runs/dip_vae_ii_mnist
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
    c.objective.dip_type = "ii"
    c.objective.dip_lambda_od = 10.0
    c.objective.dip_lambda_d = 10.0
    return c
