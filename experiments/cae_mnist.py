"""Contractive autoencoder on MNIST (Rifai et al. 2011).

reconstruction + contractive_weight * ||d z / d x||_F^2 per example, through jax autodiff
(one VJP per code unit, so cost grows with model.latent_dim).

  python scripts/train.py --config experiments/cae_mnist.py --workdir runs/cae_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "none"
    c.model.latent_dim = 64
    c.model.posterior = "delta"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "reconstruction"
    c.objective.contractive_weight = 0.1
    return c
