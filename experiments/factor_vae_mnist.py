"""FactorVAE (Kim & Mnih 2018) on MNIST: the ELBO plus gamma times a critic's estimate of the
total correlation of q(z); the critic (an MLP on codes) has its own Adam (lr 1e-4, b1 0.5,
b2 0.9, the paper's settings). For disentanglement studies use the shapes dataset:
``--config.data.name=shapes --config.model.latent_dim=10``.

  python scripts/train.py --config experiments/factor_vae_mnist.py --workdir runs/factor_vae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "factor_vae"
    c.factor_vae.tc_weight = 10.0
    c.model.critic.hidden = (1000, 1000, 1000)
    return c
