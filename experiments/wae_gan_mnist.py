"""WAE-GAN (Tolstikhin et al. 2018) on MNIST: a deterministic encoder whose aggregate code
distribution a critic pushes towards N(0, I); reconstruction cost -log p(x|z) (Bernoulli),
lambda = 1, 8 latents as in the paper's MNIST experiments. No density: no ELBO or IWAE bound.

  python scripts/train.py --config experiments/wae_gan_mnist.py --workdir runs/wae_gan_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "wae_gan"
    c.wae_gan.adversarial_weight = 1.0
    c.model.posterior = "delta"
    c.model.latent_dim = 8
    c.model.critic.hidden = (512, 512, 512)
    c.optimizer.critic.learning_rate = 5e-4
    return c
