"""Exactly complete deterministic autoencoder on MNIST: a 784-unit code.

Same as ae_undercomplete_mnist with model.latent_dim = 784, the input dimension.

  python scripts/train.py --config experiments/ae_complete_mnist.py --workdir runs/ae_complete_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "none"
    c.model.latent_dim = 784
    c.model.posterior = "delta"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "reconstruction"
    return c
