"""GAE on Cora link prediction (Kipf & Welling 2016): experiments/vgae_cora.py with
deterministic codes and the reconstruction term alone (no KL)."""

from experiments import vgae_cora


def get_config(variant: str | None = None):
    c = vgae_cora.get_config(variant)
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    return c
