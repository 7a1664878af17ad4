"""beta-TCVAE on MNIST (Chen et al. 2018): alpha = gamma = 1, beta = 6.

Minibatch stratified sampling; the dataset size comes from the training set. For minibatch
weighted sampling: --config.objective.tc_estimator=mws.

  python scripts/train.py --config experiments/beta_tcvae_mnist.py --workdir runs/beta_tcvae_mnist
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
    c.objective.name = "beta_tcvae"
    c.objective.beta = 6.0
    c.objective.tc_estimator = "mss"
    return c
