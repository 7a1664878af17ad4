"""VAE on MNIST with free bits (Kingma et al. 2016): 0.25 nats per latent dimension.

Dimensions whose batch-mean KL is below the threshold pay the threshold and get no KL gradient.
For groups: --config.objective.free_bits_groups=4 (5 latents per group).

  python scripts/train.py --config experiments/vae_free_bits_mnist.py \\
      --workdir runs/vae_free_bits_mnist
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
    c.objective.free_bits = 0.25
    c.objective.free_bits_groups = 0
    return c
