"""VGAE on PubMed link prediction with the sampled loss: experiments/vgae_cora.py:sampled on the
PubMed graph (19,717 nodes), featureless.

The dense loss would build 19,717^2 logits per step (1.4 GiB), so this runs only sampled
(``graph.negatives = 1``). Featureless (identity features, one learned 32-vector per node):
the PubMed feature file ``ind.pubmed.allx`` is not available offline (../shared/data/README.md),
so these numbers sit beside Kipf & Welling's *featureless* PubMed figures, not their Table 1.

  python scripts/train.py --config experiments/vgae_pubmed.py --workdir runs/vgae_pubmed
"""

from experiments import vgae_cora


def get_config():
    c = vgae_cora.get_config("sampled")
    c.data.name = "planetoid:pubmed"
    c.graph.features = False
    return c
