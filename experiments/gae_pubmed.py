"""GAE on PubMed link prediction: experiments/vgae_pubmed.py with deterministic codes and the
(sampled) reconstruction term alone."""

from experiments import vgae_pubmed


def get_config():
    c = vgae_pubmed.get_config()
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    return c
