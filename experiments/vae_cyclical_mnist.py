"""VAE on MNIST with the cyclical KL schedule (Fu et al. 2019): 4 cycles, R = 0.5.

10 epochs = 4,680 steps in 4 cycles of 1,170 steps, the weight rising over the first half.

  python scripts/train.py --config experiments/vae_cyclical_mnist.py \\
      --workdir runs/vae_cyclical_mnist
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
    c.objective.kl_schedule = "cyclical"
    c.objective.kl_cycle_steps = 1170
    c.objective.kl_cycle_ratio = 0.5
    return c
