"""Denoising autoencoder on MNIST (Vincent et al. 2008): masking noise.

The encoder sees the image with a quarter of its pixels set to 0 and the decoder is scored on the
clean image. For additive Gaussian noise: --config.objective.corruption=gaussian
--config.objective.noise_std=0.5.

  python scripts/train.py --config experiments/dae_mnist.py --workdir runs/dae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 1000
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    c.objective.corruption = "masking"
    c.objective.mask_prob = 0.25
    return c
