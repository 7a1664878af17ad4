"""Conditional VAE on MNIST: q(z|x, y) and p(x|z, y) see the one-hot digit label.

The reference MLP VAE (experiments/vae_mnist.py) with ``model.num_classes = 10``; the label joins
the encoder features before the posterior head and the code before the decoder. Evaluation writes
a grid of samples per class and scores them with an independently trained classifier.

  python scripts/train.py --config experiments/cvae_mnist.py --workdir runs/cvae_mnist
  python scripts/evaluate.py --workdir runs/cvae_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.model.num_classes = 10
    return c
