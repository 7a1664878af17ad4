"""Burda et al. (2016), "Importance Weighted Autoencoders", Table 1: MNIST, one stochastic layer.

The paper's protocol: encoder 784 -> 200 -> 200 -> 50 Gaussian latents, decoder 50 -> 200 -> 200
-> 784 Bernoulli, tanh hidden units; dynamic binarisation of the 60,000 training images; Adam
(beta1 0.9, beta2 0.999, eps 1e-4), batch 20, learning rate 1e-3 * 10**(-i/7) for 3**i epochs,
i = 0..7 (3,280 passes); test negative log-likelihood by the IWAE bound with K = 5000 on the
10,000 test images. Paper: VAE (k = 1) 86.76 nats, IWAE (k = 50) 84.78 nats.

  python scripts/train.py --config experiments/burda_mnist.py:vae --workdir runs/burda_vae
  python scripts/evaluate.py --workdir runs/burda_vae --suite=likelihood --profile paper

Variants (after a colon):

  vae      k = 1 (the ELBO); about 3 hours on 2 CPU cores (docs/reproductions.md)
  iwae50   k = 50 importance samples (objective iwae); needs an accelerator at this budget
  short    the VAE for 121 passes (stages i = 0..4 only): a check of the set-up, not a result
"""

from aejax.defaults import base_config, pick_variant

# variant -> (objective, importance samples, epochs)
VARIANTS = {
    "": ("elbo", 1, 3280),
    "vae": ("elbo", 1, 3280),
    "iwae50": ("iwae", 50, 3280),
    "short": ("elbo", 1, 121),
}


def get_config(variant: str | None = None):
    objective, k, epochs = pick_variant(VARIANTS, variant, "experiments/burda_mnist.py")
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "dynamic"
    c.model.latent_dim = 50
    for net in (c.model.encoder, c.model.decoder):
        net.kind = "mlp"
        net.hidden = (200, 200)
        net.activation = "tanh"
    c.model.likelihood = "bernoulli"
    c.objective.name = objective
    if objective == "iwae":
        c.iwae.num_samples = k
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 1e-3
    c.optimizer.b1, c.optimizer.b2, c.optimizer.eps = 0.9, 0.999, 1e-4
    c.optimizer.schedule = "stages"
    c.optimizer.stage_epochs, c.optimizer.stage_growth = 1.0, 3.0
    c.optimizer.stage_decay = 0.1 ** (1 / 7)
    c.train.batch_size = 20
    c.train.num_epochs = epochs
    c.train.steps_per_call = 3000  # one epoch per dispatch
    c.train.log_every = 3000
    c.train.checkpoint_every = 30_000  # every 10 epochs: a kill loses minutes, not hours
    c.train.keep_checkpoints = 2
    c.eval.iwae_k = 5000
    return c
