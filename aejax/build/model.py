"""The autoencoder ``config.model`` describes: networks, heads, prior and extra networks.

Posterior heads, likelihood heads and priors are looked up in the tables their modules declare
(:data:`aejax.models.heads.POSTERIORS`, :data:`~aejax.models.heads.LIKELIHOODS`,
:data:`aejax.models.priors.PRIORS`), whose options name the ``config.model`` keys they read.
"""

from __future__ import annotations

import ml_collections

from aejax import models, nn
from aejax.build import networks
from aejax.build.checks import choice, options, positive
from aejax.errors import ConfigError
from aejax.models.heads import LIKELIHOODS, POSTERIORS
from aejax.models.priors import PRIORS
from aejax.models.sequence import SequenceHead
from aejax.nn.mlp import ACTIVATIONS


def build_model(
    config: ml_collections.ConfigDict,
    image_shape: tuple[int, ...],
    requires: tuple[str, ...] = (),
) -> models.AutoEncoder:
    """The autoencoder the config describes, for images shaped ``(H, W, C)`` (or sequences
    ``(T, H, W, C)``).

    ``requires`` names the extra networks the objective needs (its spec's ``networks``, keys of
    :data:`aejax.build.networks.EXTRA_NETWORKS`).
    """
    m = config.model
    latent_dim = int(positive(m.latent_dim, "model.latent_dim"))
    posterior = choice(m.posterior, tuple(POSTERIORS), "model.posterior")
    likelihood = choice(m.likelihood, tuple(LIKELIHOODS), "model.likelihood")
    for net in ("encoder", "decoder"):
        choice(m[net].activation, tuple(ACTIVATIONS), f"model.{net}.activation")
    posterior_spec = POSTERIORS[posterior]
    posterior_head = posterior_spec.make(latent_dim)
    features = posterior_spec.features * latent_dim
    likelihood_spec = LIKELIHOODS[likelihood]
    likelihood_head = likelihood_spec.make(**options(m, likelihood_spec.options, "model"))
    if len(image_shape) == 4 or nn.SEQUENCE_NETWORK in (m.encoder.kind, m.decoder.kind):
        encoder, decoder = networks.sequence_networks(m, image_shape, features, likelihood_head)
        likelihood_head = SequenceHead(likelihood_head)  # log_prob sums over frames too
    else:
        height, width, channels = image_shape
        out_shape = (height, width, channels * likelihood_head.params_per_pixel)
        # The encoder's own last layer is sized for the head; the head adds its projection.
        encoder = networks.network(m.encoder, "model.encoder", "encoder", features)
        decoder = networks.network(m.decoder, "model.decoder", "decoder", out_shape)
    num_classes = int(positive(m.num_classes, "model.num_classes", allow_zero=True))
    prior = choice(m.prior, tuple(PRIORS), "model.prior")
    prior_spec = PRIORS[prior]
    if prior_spec.check is not None:
        prior_spec.check(posterior=posterior, num_classes=num_classes)
    unknown = [n for n in requires if n not in networks.EXTRA_NETWORKS]
    if unknown:
        raise ValueError(f"no builder for the extra networks {unknown}")
    extra = {n: networks.EXTRA_NETWORKS[n](m, num_classes) for n in requires}
    parts = dict(
        encoder=encoder,
        posterior_head=posterior_head,
        decoder=decoder,
        likelihood_head=likelihood_head,
    )
    ladder_dims = tuple(int(d) for d in m.ladder.latent_dims)
    if ladder_dims:
        ladder_hidden = tuple(int(w) for w in m.ladder.hidden)
        if any(d <= 0 for d in ladder_dims) or not ladder_hidden or min(ladder_hidden) <= 0:
            raise ConfigError(
                f"model.ladder: latent_dims and hidden must be positive widths (hidden non-empty),"
                f" got latent_dims={ladder_dims} hidden={ladder_hidden}"
            )
        if posterior != "gaussian" or num_classes or extra:
            raise ConfigError(
                "model.ladder.latent_dims (a hierarchical VAE) needs model.posterior='gaussian' "
                "and no labels, critic or classifier (model.num_classes=0; objective elbo)"
            )
        return models.HierarchicalAutoEncoder(
            **parts,
            latent_dim=latent_dim,
            latent_dims=ladder_dims,
            hidden=ladder_hidden,
            activation=m.encoder.activation,
        )
    prior_module = prior_spec.make(
        latent_dim=latent_dim,
        image_shape=tuple(image_shape),
        **options(m, prior_spec.options, "model"),
    )
    return models.AutoEncoder(
        **parts,
        prior=prior_module,
        num_classes=num_classes,
        **extra,
    )
