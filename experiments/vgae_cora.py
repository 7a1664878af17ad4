"""VGAE on Cora link prediction, Kipf & Welling (2016)'s protocol; the base of the graph configs.

GCN 32-16 encoder (no bias, Glorot init, no dropout), inner-product decoder, features as given,
Adam lr 0.01, 200 full-batch epochs, pos_weight/norm-weighted dense reconstruction of
A_train + I plus KL / N (VGAE: Gaussian posterior), 85/5/10 edge split,
10 runs (seeds 0..9, each its own split). Published test AUC / AP: see aejax.graph.evaluation.

  python scripts/train.py --config experiments/vgae_cora.py --workdir runs/vgae_cora

Variants ``experiments/vgae_cora.py:sampled`` and ``:sampled5`` (the same for gae_cora and
gae/vgae_citeseer): the reconstruction sum over non-edges estimated from one (five) drawn
non-edges per target one (``graph.negatives``, aejax.objectives.graph) instead of all N^2 pairs:
O(edges) per step. One is the loss of PyTorch Geometric's example; five keeps every Planetoid
row within a point of the dense loss (docs/graph_results.md).
"""

from aejax.defaults import base_config, pick_variant

# variant -> the graph.* settings it changes
VARIANTS = {"": {}, "sampled": {"negatives": 1}, "sampled5": {"negatives": 5}}


def get_config(variant: str | None = None):
    settings = pick_variant(VARIANTS, variant, "experiments/vgae_cora.py")
    c = base_config()
    c.data.name = "planetoid:cora"
    c.model.posterior = "gaussian"
    c.objective.name = "elbo"
    c.model.latent_dim = 16
    c.graph.hidden = 32
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 0.01
    c.train.num_steps = 200  # full batch: one step per epoch
    c.train.log_every = 50
    c.graph.update(settings)
    return c
