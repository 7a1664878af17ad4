"""M2 semi-supervised VAE (Kingma et al. 2014) on MNIST with 100 labels (10 per class).

Classifier q(y|x) and the conditional VAE are MLPs with two hidden layers of 500 units and 50
latents, as in the paper; every step sees a batch of 128 unlabelled images and all 100 labelled
ones; the classification term has Kingma et al.'s reference weight alpha = 0.1 on the labelled mean
(derived in aejax/objectives/semi_supervised.py; `--config.m2.classification_weight=60` gives the
heavier weighting aejax used before, 0.1 N / N_l). The paper reports
11.97% test error with 100 labels after long training; evaluation reports the test error beside
a classifier of the same architecture trained on the same 100 labels alone.

  python scripts/train.py --config experiments/m2_mnist.py --workdir runs/m2_mnist
  python scripts/evaluate.py --workdir runs/m2_mnist
"""

from experiments import vae_mnist


def get_config():
    c = vae_mnist.get_config()
    c.objective.name = "m2"
    c.model.num_classes = 10
    c.model.latent_dim = 50
    c.model.encoder.hidden = (500, 500)
    c.model.decoder.hidden = (500, 500)
    c.model.classifier.hidden = (500, 500)
    c.data.num_labelled = 100
    c.data.labelled_batch_size = 100
    c.optimizer.learning_rate = 1e-3
    return c
