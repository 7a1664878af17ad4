"""Evaluation profiles: how much work ``scripts/evaluate.py`` (and a sweep's evaluation) does.

``quick`` (the default) is for iterating: the negative ELBO on the whole test set, the IWAE bound
with a small K on the first test images, and every other part of the suite on subsets. It
evaluates a 10-epoch ``vae_mnist`` in under a minute on 2 CPU cores (README, "Evaluation
profiles"). ``paper`` is what a paper reports: IWAE with the config's ``eval.iwae_k`` (5000 by
default) on every test image and every part at full size. A flag given on the command line
(``--iwae_k``, ``--iwae_num_test``, ``--transfer_max_train``, ...) replaces the profile's choice
of that one setting; ``eval.json`` records the profile, every setting that ran and which
settings came from flags.

This module imports nothing heavy, so the command lines can validate ``--profile`` early.
"""

from __future__ import annotations

import dataclasses

from aejax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Profile:
    """Default sizes of each part. ``0`` in a size means "all"; see :class:`Settings`."""

    name: str
    description: str
    iwae_k_cap: int  # IWAE samples: min(iwae_k_cap, config eval.iwae_k); 0 = eval.iwae_k
    iwae_num_test: int  # IWAE on the first N examples of each split (0 = all); ELBO on all
    num_plot: int  # test points in the PCA scatter plot
    tsne_points: int  # test points in the t-SNE plot (0 skips t-SNE)
    cluster_examples: int  # K-means on the first N test examples (0 = all)
    kmeans_n_init: int  # K-means restarts per feature set
    transfer_max_train: int  # training examples the probes may draw from (0 = all)
    finetune_steps: int  # Adam steps of each fine-tuning run
    robust_examples: int  # test images per robustness point
    disentanglement_num_train: int  # sampled factor combinations (see disentanglement)
    disentanglement_num_test: int


PROFILES = {
    "quick": Profile(
        name="quick",
        description=(
            "for iterating: -ELBO on the whole test set, IWAE with K <= 100 on the first 1000 "
            "test images, the other parts on subsets"
        ),
        iwae_k_cap=100,
        iwae_num_test=1000,
        num_plot=2000,
        tsne_points=500,
        cluster_examples=2000,
        kmeans_n_init=3,
        transfer_max_train=3000,
        finetune_steps=100,
        robust_examples=500,
        disentanglement_num_train=2000,
        disentanglement_num_test=1000,
    ),
    "paper": Profile(
        name="paper",
        description=(
            "the numbers to publish: IWAE with K = eval.iwae_k (5000) on every test image, "
            "every part at full size"
        ),
        iwae_k_cap=0,
        iwae_num_test=0,
        num_plot=2000,
        tsne_points=1000,
        cluster_examples=0,
        kmeans_n_init=10,
        transfer_max_train=0,
        finetune_steps=300,
        robust_examples=2000,
        disentanglement_num_train=10_000,
        disentanglement_num_test=5_000,
    ),
}
DEFAULT_PROFILE = "quick"


def get_profile(name: str) -> Profile:
    """The profile called ``name``; an unknown name is a one-line :class:`ConfigError`."""
    if name not in PROFILES:
        raise ConfigError(f"--profile={name!r}: choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


def profile_iwae_k(profile: Profile, config_iwae_k: int) -> int:
    """The profile's K given the config's ``eval.iwae_k`` (quick caps it, paper takes it)."""
    k = int(config_iwae_k)
    return min(k, profile.iwae_k_cap) if profile.iwae_k_cap else k
