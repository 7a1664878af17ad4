"""VAE on MNIST with linear KL warm-up (Bowman et al. 2016) over 2 epochs.

The KL weight rises from 0 to beta over objective.kl_warmup_steps steps.

  python scripts/train.py --config experiments/vae_warmup_mnist.py --workdir runs/vae_warmup_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.kl_schedule = "linear"
    c.objective.kl_warmup_steps = 936
    return c
