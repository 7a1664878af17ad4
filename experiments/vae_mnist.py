"""The Flax VAE example's reference model on MNIST with dynamic binarisation.

MLP 784 -> 500 -> ReLU -> 20 latents (Gaussian posterior), decoder 20 -> 500 -> ReLU -> 784
Bernoulli logits, Adam 1e-3, batch 128, 10 epochs. The Flax example reports a test negative
ELBO of about 104 nats after 10 epochs.

  python scripts/train.py --config experiments/vae_mnist.py --workdir runs/vae_mnist
  python scripts/evaluate.py --workdir runs/vae_mnist

Variants change only the ELBO's own settings (``elbo.*``); pick one after a colon:

  python scripts/train.py --config experiments/vae_mnist.py:beta4 --workdir runs/beta_vae_mnist

  beta4      beta-VAE (Higgins et al. 2017): elbo.beta = 4
  warmup     linear KL warm-up (Bowman et al. 2016) over 2 epochs (936 steps)
  cyclical   cyclical KL schedule (Fu et al. 2019): 4 cycles of 1,170 steps, R = 0.5
  free_bits  free bits (Kingma et al. 2016): 0.25 nats per latent dimension
"""

from aejax.defaults import base_config, pick_variant

# variant -> the elbo.* settings it changes
VARIANTS = {
    "": {},
    "beta4": {"beta": 4.0},
    "warmup": {"kl_schedule": "linear", "kl_warmup_steps": 936},
    "cyclical": {"kl_schedule": "cyclical", "kl_cycle_steps": 1170, "kl_cycle_ratio": 0.5},
    "free_bits": {"free_bits": 0.25, "free_bits_groups": 0},
}


def get_config(variant: str | None = None):
    settings = pick_variant(VARIANTS, variant, "experiments/vae_mnist.py")
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
    c.elbo.update(settings)
    return c
