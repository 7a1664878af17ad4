"""Prior modules: ``() -> p(z)``, or ``(encode) -> p(z)`` for a prior built from the encoder.

A prior module may own parameters (trained with the rest of the model by the same objective).
One whose class sets ``uses_encoder = True`` is called with the autoencoder's ``encode`` (see
``AutoEncoder.prior_dist``); every other prior is called with no arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax.distributions import DiagonalGaussian, MixtureOfGaussians, RealNVP, StandardNormal
from aejax.distributions.posteriors import clamp_log_var
from aejax.errors import ConfigError
from aejax.models.spec import PartSpec
from aejax.types import Array, Option


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I); no parameters."""

    latent_dim: int

    def __call__(self) -> StandardNormal:
        return StandardNormal(latent_dim=self.latent_dim)


class MixturePrior(nn.Module):
    """A learnable mixture of ``num_components`` diagonal Gaussians.

    Means start at N(0, 1) draws (so the components differ), log-variances at 0 and the weights
    uniform.

    References:
      Dilokthanakul et al., "Deep unsupervised clustering with Gaussian mixture VAEs", 2016;
      Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018, eq. 8 (the "MoG" baseline prior).
    """

    latent_dim: int
    num_components: int

    @nn.compact
    def __call__(self) -> MixtureOfGaussians:
        k, d = self.num_components, self.latent_dim
        logits = self.param("logits", nn.initializers.zeros, (k,), jnp.float32)
        loc = self.param("loc", nn.initializers.normal(1.0), (k, d), jnp.float32)
        log_var = self.param("log_var", nn.initializers.zeros, (k, d), jnp.float32)
        return MixtureOfGaussians(logits=logits, loc=loc, log_var=clamp_log_var(log_var))


def _pseudo_input_init(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
    return 0.5 + 0.1 * jax.random.normal(key, shape, dtype)


class VampPrior(nn.Module):
    """``p(z) = (1/K) sum_k q(z | u_k)`` with ``K`` learnable pseudo-inputs ``u_k`` shaped like
    the images; the encoder and posterior head are the model's own.

    Pseudo-inputs are clipped to [0, 1] before encoding (the hardtanh of the authors' code) and
    start near mid-grey, N(0.5, 0.1^2). The encoder runs with ``train=False`` on them.

    References:
      Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018, eq. 9.
    """

    num_components: int
    image_shape: tuple[int, ...]
    uses_encoder: ClassVar[bool] = True

    @nn.compact
    def __call__(self, encode: Callable[[Array], DiagonalGaussian]) -> MixtureOfGaussians:
        shape = (self.num_components, *self.image_shape)
        pseudo_inputs = self.param("pseudo_inputs", _pseudo_input_init, shape, jnp.float32)
        q = encode(jnp.clip(pseudo_inputs, 0.0, 1.0))
        if not isinstance(q, DiagonalGaussian):
            raise TypeError(f"VampPrior needs a Gaussian posterior, got {type(q).__name__}")
        logits = jnp.zeros((self.num_components,), jnp.float32)
        return MixtureOfGaussians(logits=logits, loc=q.loc, log_var=q.log_var)


class FlowPrior(nn.Module):
    """A RealNVP flow on N(0, I) with ``num_layers`` affine couplings (alternating masks).

    Each conditioner is a tanh MLP with widths ``hidden``. Its output layer starts at zero, so the
    initial prior is exactly N(0, I) and the flow learns away from it.

    References:
      Dinh et al., "Density estimation using Real NVP", ICLR 2017; as a VAE prior: Chen et al.,
      "Variational lossy autoencoder", ICLR 2017, sec. 3.
    """

    latent_dim: int
    num_layers: int = 4
    hidden: tuple[int, ...] = (64, 64)

    @nn.compact
    def __call__(self) -> RealNVP:
        d = self.latent_dim
        widths = (d, *self.hidden, 2 * d)
        layers = []
        for i in range(self.num_layers):
            kernels, biases = [], []
            for j in range(len(widths) - 1):
                last = j == len(widths) - 2
                init = nn.initializers.zeros if last else nn.initializers.lecun_normal()
                shape = (widths[j], widths[j + 1])
                kernels.append(self.param(f"layer{i}_kernel{j}", init, shape, jnp.float32))
                biases.append(
                    self.param(f"layer{i}_bias{j}", nn.initializers.zeros, shape[1:], jnp.float32)
                )
            layers.append({"kernels": tuple(kernels), "biases": tuple(biases)})
        return RealNVP(layers=tuple(layers), latent_dim=d)


def _standard_normal(latent_dim: int, image_shape) -> StandardNormalPrior:
    del image_shape
    return StandardNormalPrior(latent_dim)


def _mixture(latent_dim: int, image_shape, num_components: int) -> MixturePrior:
    del image_shape
    return MixturePrior(latent_dim, num_components=num_components)


def _vamp(latent_dim: int, image_shape, num_components: int) -> VampPrior:
    del latent_dim
    return VampPrior(num_components=num_components, image_shape=tuple(image_shape))


def _flow(latent_dim: int, image_shape, num_layers: int, hidden: tuple[int, ...]) -> FlowPrior:
    del image_shape
    return FlowPrior(latent_dim, num_layers=num_layers, hidden=hidden)


def _check_vamp(*, posterior: str, num_classes: int) -> None:
    """The pseudo-inputs are encoded without a label, by a Gaussian encoder."""
    if num_classes:
        raise ConfigError(
            "model.prior='vamp' encodes unlabelled pseudo-inputs, but model.num_classes="
            f"{num_classes} makes the encoder label-conditioned; use model.prior='mixture'"
        )
    if posterior != "gaussian":
        raise ConfigError(
            f"model.prior='vamp' encodes pseudo-inputs and needs model.posterior='gaussian', got "
            f"{posterior!r}; use another model.prior"
        )


_COMPONENTS = {"num_components": Option("prior_components", minimum=1)}
# model.prior -> spec (KL to any but the standard normal is a Monte-Carlo estimate).
PRIORS = {
    "standard_normal": PartSpec(make=_standard_normal),
    "mixture": PartSpec(make=_mixture, options=_COMPONENTS),
    "vamp": PartSpec(make=_vamp, options=_COMPONENTS, check=_check_vamp),
    "flow": PartSpec(
        make=_flow,
        options={
            "num_layers": Option("flow_layers", minimum=1),
            "hidden": Option("flow_hidden", kind="widths"),
        },
    ),
}
