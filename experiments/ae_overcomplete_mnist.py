"""Overcomplete deterministic autoencoder on MNIST: a 1000-unit code.

Nothing stops it from copying its input; compare with the denoising, sparse and contractive
configs, which regularise the same model.

  python scripts/train.py --config experiments/ae_overcomplete_mnist.py \\
      --workdir runs/ae_overcomplete_mnist
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
    return c
