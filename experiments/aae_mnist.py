"""Adversarial autoencoder (Makhzani et al. 2016) on MNIST with a Gaussian posterior: the
reconstruction term plus a critic that tells prior samples from codes (lambda = 1). With a
Gaussian q(z|x) the IWAE bound still applies, so it can sit in the likelihood table.

  python scripts/train.py --config experiments/aae_mnist.py --workdir runs/aae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "aae"
    c.aae.adversarial_weight = 1.0
    c.model.critic.hidden = (1000, 1000)
    return c
