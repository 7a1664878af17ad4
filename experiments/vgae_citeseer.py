"""VGAE on Citeseer link prediction: experiments/vgae_cora.py on the Citeseer graph."""

from experiments import vgae_cora


def get_config(variant: str | None = None):
    c = vgae_cora.get_config(variant)
    c.data.name = "planetoid:citeseer"
    return c
