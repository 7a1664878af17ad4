"""A seconds-long experiment for command-line tests (16x16 shapes, tiny MLP VAE)."""

from conftest import tiny_config


def get_config():
    return tiny_config()
