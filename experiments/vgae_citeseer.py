"""VGAE on Citeseer link prediction: experiments/vgae_cora.py on the Citeseer graph."""

from experiments import vgae_cora


def get_config():
    c = vgae_cora.get_config()
    c.data.name = "planetoid:citeseer"
    return c
