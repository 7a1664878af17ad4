"""InfoVAE (MMD-VAE) on MNIST (Zhao et al. 2019): alpha = 0, lambda = 1000.

The ELBO (beta = 1 - alpha) plus mmd_weight = alpha + lambda - 1 times the MMD between q(z)
and p(z) with the IMQ kernel.

  python scripts/train.py --config experiments/info_vae_mnist.py --workdir runs/info_vae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "elbo"
    c.elbo.beta = 1.0
    c.objective.mmd_weight = 999.0
    c.objective.mmd_kernel = "imq"
    return c
