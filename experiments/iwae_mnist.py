"""IWAE on MNIST (Burda et al. 2016) trained with K = 5 importance samples.

objective.num_samples is static (it sets array shapes). Evaluate with scripts/evaluate.py
--iwae_k 5000 to compare with vae_mnist.

  python scripts/train.py --config experiments/iwae_mnist.py --workdir runs/iwae_mnist
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
    c.objective.name = "iwae"
    c.objective.num_samples = 5
    return c
