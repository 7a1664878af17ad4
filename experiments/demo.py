"""The `make demo` run: a convolutional VAE on the generated `shapes` dataset (dSprites-style).

Needs no downloads: the data are rendered from their ground-truth factors on the fly.

  python scripts/train.py --config experiments/demo.py --workdir runs/demo
  python scripts/evaluate.py --workdir runs/demo
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "shapes"
    c.data.options.resolution = 32
    c.data.options.num_train = 20000
    c.data.options.num_test = 2000
    c.model.latent_dim = 10
    c.model.encoder.kind = "conv"
    c.model.encoder.channels = (32, 32, 64)
    c.model.encoder.dense = 256
    c.model.decoder.kind = "conv"
    c.model.decoder.channels = (64, 32, 32)
    c.model.decoder.dense = 256
    c.model.likelihood = "bernoulli"
    c.objective.name = "elbo"
    c.objective.beta = 1.0
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 64
    c.train.num_steps = 3000
    c.train.log_every = 100
    c.train.checkpoint_every = 1000
    c.train.steps_per_call = 100
    c.eval.iwae_k = 500
    return c
