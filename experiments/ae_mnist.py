"""Deterministic autoencoders on MNIST: the vae_mnist network with a point-mass code.

Every variant is experiments/vae_mnist.py's MLP (784 -> 500 -> ReLU -> code -> 500 -> ReLU -> 784
Bernoulli logits, Adam 1e-3, batch 128, 10 epochs) with a Delta posterior
(``model.posterior=delta``), the reconstruction objective (``objective.name=reconstruction``:
BCE of the logits on the grey levels) and no binarisation (``data.binarize=none``). A variant
sets the code width (``model.latent_dim``) and its own regulariser; pick one after a colon:

  python scripts/train.py --config experiments/ae_mnist.py:denoising --workdir runs/dae_mnist

  undercomplete  (the default, also ``experiments/ae_mnist.py``) a 32-unit code: the bottleneck
                 is the only thing that stops the model from copying its input.
  complete       a 784-unit code, exactly the input dimension.
  overcomplete   a 1000-unit code. Nothing stops it from copying its input; compare with the
                 denoising, sparse and contractive variants, which regularise the same model.
  denoising      denoising autoencoder (Vincent et al. 2008), 1000-unit code, masking noise: the
                 encoder sees the image with a quarter of its pixels set to 0
                 (``objective.corruption=masking``, ``objective.mask_prob=0.25``) and the
                 decoder is scored on the clean image. For additive Gaussian noise:
                 --config.objective.corruption=gaussian --config.objective.noise_std=0.5.
  sparse         sparse autoencoder (Ng 2011), 1000-unit code: KL of the mean sigmoid code to a
                 target rate, sparsity_weight * sum_j KL(0.05 || mean_b sigmoid(z_bj)) with
                 ``objective.sparsity_weight=3``, ``objective.sparsity_target=0.05``. For an L1
                 penalty instead: --config.objective.sparsity_weight=0
                 --config.objective.l1_weight=1e-3 (or the sparse_l1 variant).
  sparse_l1      sparse autoencoder with an L1 penalty on the code, 1000-unit code:
                 reconstruction + l1_weight * ||z||_1 per example, ``objective.l1_weight=1e-3``.
  contractive    contractive autoencoder (Rifai et al. 2011), 64-unit code: reconstruction +
                 contractive_weight * ||d z / d x||_F^2 per example with
                 ``objective.contractive_weight=0.1``, through jax autodiff (one VJP per code
                 unit, so cost grows with model.latent_dim).

The files these variants replaced still work and call them: ae_undercomplete_mnist.py,
ae_complete_mnist.py, ae_overcomplete_mnist.py, dae_mnist.py, sparse_ae_mnist.py,
sparse_l1_ae_mnist.py and cae_mnist.py.
"""

from aejax.defaults import pick_variant
from experiments import vae_mnist

# variant -> the config keys it sets on top of the deterministic AE below
VARIANTS = {
    "undercomplete": {"model.latent_dim": 32},
    "complete": {"model.latent_dim": 784},
    "overcomplete": {"model.latent_dim": 1000},
    "denoising": {
        "model.latent_dim": 1000,
        "objective.corruption": "masking",
        "objective.mask_prob": 0.25,
    },
    "sparse": {
        "model.latent_dim": 1000,
        "objective.sparsity_weight": 3.0,
        "objective.sparsity_target": 0.05,
    },
    "sparse_l1": {"model.latent_dim": 1000, "objective.l1_weight": 0.001},
    "contractive": {"model.latent_dim": 64, "objective.contractive_weight": 0.1},
}
VARIANTS[""] = VARIANTS["undercomplete"]


def get_config(variant: str | None = None):
    settings = pick_variant(VARIANTS, variant, "experiments/ae_mnist.py")
    c = vae_mnist.get_config()
    c.data.binarize = "none"
    c.model.posterior = "delta"
    c.objective.name = "reconstruction"
    c.update_from_flattened_dict(settings)
    return c
