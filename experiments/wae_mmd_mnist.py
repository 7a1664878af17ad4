"""WAE-MMD on MNIST (Tolstikhin et al. 2018): deterministic encoder, IMQ kernel, lambda = 10.

recon + lam * MMD(q(z), N(0, I)), the IMQ kernel summed over scales 0.1 ... 10 of C = 2 D.
For the RBF kernel: --config.objective.mmd_kernel=rbf.

  python scripts/train.py --config experiments/wae_mmd_mnist.py --workdir runs/wae_mmd_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.latent_dim = 8
    c.model.posterior = "delta"
    c.objective.name = "wae_mmd"
    c.wae_mmd.weight = 10.0
    c.objective.mmd_kernel = "imq"
    return c
