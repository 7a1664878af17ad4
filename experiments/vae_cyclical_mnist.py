"""VAE on MNIST with the cyclical KL schedule (Fu et al. 2019): 4 cycles, R = 0.5.

10 epochs = 4,680 steps in 4 cycles of 1,170 steps, the weight rising over the first half.

  python scripts/train.py --config experiments/vae_cyclical_mnist.py \
      --workdir runs/vae_cyclical_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.kl_schedule = "cyclical"
    c.objective.kl_cycle_steps = 1170
    c.objective.kl_cycle_ratio = 0.5
    return c
