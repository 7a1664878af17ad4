"""VGAE on a generated graph of 100,000 nodes and 1,000,000 edges (``sbm:large``,
aejax.data.sbm): 50 planted blocks, 32 noisy block-correlated features per node.

Kipf & Welling's protocol (experiments/vgae_cora.py) with the sampled loss
(``graph.negatives = 1``: O(edges) per step; the dense loss would need 10^10 logits), 200
full-batch epochs, 85/5/10 edge split, 3 runs (seeds 0..2). Clustering scores how well the
embeddings recover the 50 blocks.

  python scripts/train.py --config experiments/vgae_sbm.py --workdir runs/graph/vgae_sbm
"""

from experiments import vgae_cora


def get_config():
    c = vgae_cora.get_config("sampled")
    c.data.name = "sbm:large"
    c.graph.num_runs = 3
    return c
