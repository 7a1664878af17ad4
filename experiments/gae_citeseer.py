"""GAE on Citeseer link prediction: experiments/gae_cora.py on the Citeseer graph."""

from experiments import gae_cora


def get_config(variant: str | None = None):
    c = gae_cora.get_config(variant)
    c.data.name = "planetoid:citeseer"
    return c
