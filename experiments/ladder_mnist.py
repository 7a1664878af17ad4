"""A two-layer hierarchical VAE (Ladder VAE, Sønderby et al. 2016) on MNIST.

The reference model's encoder and decoder (500 hidden units) around a 20-dim bottom layer, and
one more stochastic layer of 10 dims above it with 256-unit ladder MLPs; inference is top-down
with precision-weighted posteriors, and a linear KL warm-up over the first 2 epochs as Sønderby
et al. train it (without it the top layer tends to collapse early). Compare with
experiments/vae_mnist.py at the same budget.

  python scripts/train.py --config experiments/ladder_mnist.py --workdir runs/ladder_mnist
  python scripts/evaluate.py --workdir runs/ladder_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.model.ladder.latent_dims = (10,)
    c.model.ladder.hidden = (256,)
    c.elbo.kl_schedule = "linear"
    c.elbo.kl_warmup_steps = 936
    return c
