"""Undercomplete deterministic autoencoder on MNIST: 784 -> 500 -> 32 -> 500 -> 784.

A Delta posterior and the reconstruction objective (BCE on grey levels); the 32-unit code is a
bottleneck.

  python scripts/train.py --config experiments/ae_undercomplete_mnist.py \\
      --workdir runs/ae_undercomplete_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "none"
    c.model.latent_dim = 32
    c.model.posterior = "delta"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "reconstruction"
    return c
