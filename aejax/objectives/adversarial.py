"""Two-player objectives: a critic on latent codes, trained by ``aux_loss`` with its own optimizer.

Each function returns ``LossTerms(loss, terms, aux_loss)``: ``loss`` trains the autoencoder,
``aux_loss`` trains ``params["critic"]`` (the extra player :data:`CRITIC`). Both players see the
same batch in the same step; the critic's inputs are ``stop_gradient``-ed codes, and the critic's
parameters receive no gradient from ``loss`` (the step keeps each player's own gradient).

The critic outputs a logit ``[B]``; ``softplus(-logit)`` is ``-log sigmoid(logit)``, the binary
cross-entropy of calling an input "real".

References:
  Kim & Mnih, "Disentangling by Factorising", ICML 2018 (FactorVAE: eq. 2 and Algorithm 2).
  Tolstikhin et al., "Wasserstein Auto-Encoders", ICLR 2018 (WAE-GAN: Algorithm 1).
  Makhzani et al., "Adversarial Autoencoders", ICLR 2016 workshop (section 2).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from aejax.objectives.elbo import kl_to_prior
from aejax.objectives.spec import ObjectiveSpec
from aejax.types import Array, Batch, HParams, LossTerms, Player, PRNGKey

# The critic: a network on codes, trained by aux_loss with its own Adam (config optimizer.critic)
# at hparams["critic_learning_rate"].
CRITIC = Player(name="critic", optimizer="optimizer.critic", lr_key="critic_learning_rate")


def permute_dims(key: PRNGKey, z: Array) -> Array:
    """Shuffles each latent dimension independently across the batch: ``[B, D] -> [B, D]``.

    The rows of the result are samples from the product of the marginals of ``z``'s empirical
    distribution (Kim & Mnih 2018, Algorithm 1).
    """
    keys = jax.random.split(key, z.shape[-1])
    perms = jax.vmap(lambda k: jax.random.permutation(k, z.shape[0]))(keys)  # [D, B]
    return jnp.take_along_axis(z, perms.T, axis=0)


def factor_vae(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``recon + KL + tc_weight * TC``, with the total correlation ``TC ≈ E_q[log D(z)/(1-D(z))]``.

    The critic learns to tell codes ``z ~ q(z)`` (logit > 0) from dimension-wise permuted codes
    (samples of ``prod_j q(z_j)``). Terms: ``recon``, ``kl``, ``neg_elbo``, ``tc`` (the critic's
    estimate, nats), ``critic_accuracy``. ``hparams["tc_weight"]`` (the paper's gamma) weighs the
    TC term.
    """
    del step
    z_key, perm_key = jax.random.split(key)
    x, cond = batch["image"], model.condition(batch)
    posterior = model.encode(x, cond, train=train)
    z = posterior.sample(z_key)
    recon = -model.decode(z, cond, train=train).log_prob(x)
    kl = kl_to_prior(posterior, model.prior_dist(), z)
    tc = model.critic(z)
    joint = jax.lax.stop_gradient(z)
    real_logit = model.critic(joint)
    fake_logit = model.critic(permute_dims(perm_key, joint))
    aux = jax.nn.softplus(-real_logit) + jax.nn.softplus(fake_logit)
    accuracy = 0.5 * ((real_logit > 0).astype(jnp.float32) + (fake_logit < 0).astype(jnp.float32))
    return LossTerms(
        loss=recon + kl + hparams["tc_weight"] * tc,
        terms={
            "recon": recon,
            "kl": kl,
            "neg_elbo": recon + kl,
            "tc": tc,
            "critic_accuracy": accuracy,
        },
        aux_loss=aux,
    )


def adversarial_prior_matching(
    model, batch: Batch, key: PRNGKey, hparams: HParams, *, step: Array, train: bool
) -> LossTerms:
    """``recon + adversarial_weight * (-log D(z_q))``: codes are pushed to look like prior
    samples to a critic.

    This is WAE-GAN (a deterministic or Gaussian encoder, the reconstruction cost
    ``-log p(x|z)``, the weight is the paper's ``lambda``, typically 1-10) and the adversarial
    autoencoder (the same game with weight 1; the AAE paper alternates the two phases, here both
    players update in the same step). The critic calls prior samples real (logit > 0) and codes
    fake. Terms: ``recon``, ``adversarial`` (the encoder's GAN loss, nats), ``critic_accuracy``.
    """
    del step
    z_key, prior_key = jax.random.split(key)
    x, cond = batch["image"], model.condition(batch)
    posterior = model.encode(x, cond, train=train)
    z = posterior.sample(z_key)
    recon = -model.decode(z, cond, train=train).log_prob(x)
    adversarial = jax.nn.softplus(-model.critic(z))
    z_prior = model.prior_dist().sample(prior_key, (x.shape[0],))
    prior_logit = model.critic(jax.lax.stop_gradient(z_prior))
    code_logit = model.critic(jax.lax.stop_gradient(z))
    aux = jax.nn.softplus(-prior_logit) + jax.nn.softplus(code_logit)
    accuracy = 0.5 * ((prior_logit > 0).astype(jnp.float32) + (code_logit < 0).astype(jnp.float32))
    return LossTerms(
        loss=recon + hparams["adversarial_weight"] * adversarial,
        terms={"recon": recon, "adversarial": adversarial, "critic_accuracy": accuracy},
        aux_loss=aux,
    )


# WAE-GAN and the adversarial autoencoder are one objective (see adversarial_prior_matching).
_PRIOR_MATCHING = ObjectiveSpec(
    fn=adversarial_prior_matching,
    group="wae_gan",
    hparams=("adversarial_weight",),
    networks=("critic",),
    players=(CRITIC,),
)
OBJECTIVES = {
    "factor_vae": ObjectiveSpec(
        fn=factor_vae,
        group="factor_vae",
        hparams=("tc_weight",),
        networks=("critic",),
        players=(CRITIC,),
    ),
    "wae_gan": _PRIOR_MATCHING,
    "aae": dataclasses.replace(_PRIOR_MATCHING, group="aae"),
}
