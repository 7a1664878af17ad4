"""VAE on MNIST with linear KL warm-up (Bowman et al. 2016) over 2 epochs.

The KL weight rises from 0 to beta over objective.kl_warmup_steps steps.

  python scripts/train.py --config experiments/vae_warmup_mnist.py --workdir runs/vae_warmup_mnist
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
    c.objective.kl_schedule = "linear"
    c.objective.kl_warmup_steps = 936
    return c
