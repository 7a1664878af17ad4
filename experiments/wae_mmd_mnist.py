"""WAE-MMD on MNIST (Tolstikhin et al. 2018): deterministic encoder, IMQ kernel, lambda = 10.

recon + lam * MMD(q(z), N(0, I)), the IMQ kernel summed over scales 0.1 ... 10 of C = 2 D.
For the RBF kernel: --config.objective.mmd_kernel=rbf.

  python scripts/train.py --config experiments/wae_mmd_mnist.py --workdir runs/wae_mmd_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "none"
    c.model.latent_dim = 8
    c.model.posterior = "delta"
    c.model.encoder.hidden = (500,)
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.steps_per_call = 468  # one epoch per dispatch
    c.objective.name = "wae_mmd"
    c.objective.lam = 10.0
    c.objective.mmd_kernel = "imq"
    return c
