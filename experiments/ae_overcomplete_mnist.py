"""Overcomplete deterministic autoencoder on MNIST: a 1000-unit code.

Nothing stops it from copying its input; compare with the denoising, sparse and contractive
configs, which regularise the same model.

  python scripts/train.py --config experiments/ae_overcomplete_mnist.py \
      --workdir runs/ae_overcomplete_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 1000
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    return c
