"""Capacity-annealed beta-VAE on MNIST (Burgess et al. 2018).

recon + gamma * |KL - C|, C rising linearly from 0 to 25 nats over 4,000 steps (most of the
10 epochs); gamma = 1000 as in the paper.

  python scripts/train.py --config experiments/annealed_vae_mnist.py \\
      --workdir runs/annealed_vae_mnist
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
    c.objective.name = "capacity_vae"
    c.objective.gamma = 1000.0
    c.objective.capacity_max = 25.0
    c.objective.capacity_steps = 4000
    return c
