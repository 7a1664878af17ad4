"""VAE on MNIST with free bits (Kingma et al. 2016): 0.25 nats per latent dimension.

Dimensions whose batch-mean KL is below the threshold pay the threshold and get no KL gradient.
For groups: --config.objective.free_bits_groups=4 (5 latents per group).

  python scripts/train.py --config experiments/vae_free_bits_mnist.py \
      --workdir runs/vae_free_bits_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.free_bits = 0.25
    c.objective.free_bits_groups = 0
    return c
