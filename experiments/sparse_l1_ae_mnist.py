"""Sparse autoencoder on MNIST with an L1 penalty on the code.

reconstruction + l1_weight * ||z||_1 per example, overcomplete code.

  python scripts/train.py --config experiments/sparse_l1_ae_mnist.py \\
      --workdir runs/sparse_l1_ae_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "none"
    c.model.latent_dim = 1000
    c.model.posterior = "delta"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "reconstruction"
    c.objective.l1_weight = 1e-3
    return c
