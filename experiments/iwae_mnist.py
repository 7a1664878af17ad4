"""IWAE on MNIST (Burda et al. 2016) trained with K = 5 importance samples.

iwae.num_samples is static (it sets array shapes). Evaluate with scripts/evaluate.py
--iwae_k 5000 to compare with vae_mnist.

  python scripts/train.py --config experiments/iwae_mnist.py --workdir runs/iwae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "iwae"
    c.iwae.num_samples = 5
    return c
