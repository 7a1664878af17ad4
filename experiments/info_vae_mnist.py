"""InfoVAE (MMD-VAE) on MNIST (Zhao et al. 2019): alpha = 0, lambda = 1000.

The ELBO (beta = 1 - alpha) plus mmd_weight = alpha + lambda - 1 times the MMD between q(z)
and p(z) with the IMQ kernel.

  python scripts/train.py --config experiments/info_vae_mnist.py --workdir runs/info_vae_mnist
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
    c.objective.name = "elbo"
    c.objective.beta = 1.0
    c.objective.mmd_weight = 999.0
    c.objective.mmd_kernel = "imq"
    return c
