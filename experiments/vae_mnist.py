"""The Flax VAE example's reference model on MNIST with dynamic binarisation.

MLP 784 -> 500 -> ReLU -> 20 latents (Gaussian posterior), decoder 20 -> 500 -> ReLU -> 784
Bernoulli logits, Adam 1e-3, batch 128, 10 epochs. The Flax example reports a test negative
ELBO of about 104 nats after 10 epochs.

  python scripts/train.py --config experiments/vae_mnist.py --workdir runs/vae_mnist
  python scripts/evaluate.py --workdir runs/vae_mnist
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "dynamic"
    c.model.latent_dim = 20
    c.model.encoder.kind = "mlp"
    c.model.encoder.hidden = (500,)
    c.model.decoder.kind = "mlp"
    c.model.decoder.hidden = (500,)
    c.model.likelihood = "bernoulli"
    c.objective.name = "elbo"
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 128
    c.train.num_epochs = 10
    c.train.log_every = 100
    c.train.checkpoint_every = 1000
    c.train.steps_per_call = 468  # one epoch per dispatch
    return c
