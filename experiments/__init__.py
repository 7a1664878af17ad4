"""Experiment configs: one ml_collections config per file (``get_config()``); variants import
the config they start from, e.g. ``from experiments import vae_mnist``."""
