"""Capacity-annealed beta-VAE on MNIST (Burgess et al. 2018).

recon + gamma * |KL - C|, C rising linearly from 0 to 25 nats over 4,000 steps (most of the
10 epochs); gamma = 1000 as in the paper.

  python scripts/train.py --config experiments/annealed_vae_mnist.py \
      --workdir runs/annealed_vae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "capacity_vae"
    c.capacity_vae.weight = 1000.0
    c.capacity_vae.capacity_max = 25.0
    c.capacity_vae.capacity_steps = 4000
    return c
