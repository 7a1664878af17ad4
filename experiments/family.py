"""The rows of the model-family results table (scripts/family_table.py) and what to compare.

Each row is an experiment config plus overrides; the script trains every row for the same number
of epochs. ``kind`` says how the row is evaluated (aejax/evaluation/family.py).
"""

ROWS = {
    "vae": dict(experiment="vae_mnist", kind="vae", what="VAE, MLP 500, 20 latents"),
    "beta_vae": dict(experiment="beta_vae_mnist", kind="vae", what="β-VAE"),
    "annealed_vae": dict(
        experiment="annealed_vae_mnist", kind="vae", what="capacity-annealed β-VAE"
    ),
    "beta_tcvae": dict(experiment="beta_tcvae_mnist", kind="vae", what="β-TCVAE"),
    "factor_vae": dict(experiment="factor_vae_mnist", kind="vae", what="FactorVAE (critic)"),
    "dip_vae_i": dict(experiment="dip_vae_i_mnist", kind="vae", what="DIP-VAE I"),
    "dip_vae_ii": dict(experiment="dip_vae_ii_mnist", kind="vae", what="DIP-VAE II"),
    "info_vae": dict(experiment="info_vae_mnist", kind="vae", what="InfoVAE (MMD)"),
    "aae": dict(experiment="aae_mnist", kind="vae", what="adversarial AE, Gaussian q"),
    "iwae": dict(experiment="iwae_mnist", kind="vae", what="IWAE, K=5 in training"),
    "vamp": dict(
        experiment="vae_mnist",
        overrides={"model.prior": "vamp", "model.prior_components": 500},
        kind="vae",
        what="VAE + VampPrior (500 pseudo-inputs)",
    ),
    "mog_prior": dict(
        experiment="vae_mnist",
        overrides={"model.prior": "mixture", "model.prior_components": 10},
        kind="vae",
        what="VAE + mixture-of-Gaussians prior",
    ),
    "flow_prior": dict(
        experiment="vae_mnist",
        overrides={"model.prior": "flow"},
        kind="vae",
        what="VAE + RealNVP prior",
    ),
    "ladder": dict(experiment="ladder_mnist", kind="vae", what="Ladder VAE, 2 stochastic layers"),
    # Collapse-prone: 64 latents and a two-layer 1000-unit decoder; warm-up and free bits on top.
    "wide": dict(
        experiment="vae_mnist",
        overrides={"model.latent_dim": 64, "model.decoder.hidden": (1000, 1000)},
        kind="vae",
        what="64 latents, strong decoder",
    ),
    "wide_warmup": dict(
        experiment="vae_warmup_mnist",
        overrides={"model.latent_dim": 64, "model.decoder.hidden": (1000, 1000)},
        kind="vae",
        what="same + KL warm-up",
    ),
    "wide_free_bits": dict(
        experiment="vae_free_bits_mnist",
        overrides={"model.latent_dim": 64, "model.decoder.hidden": (1000, 1000)},
        kind="vae",
        what="same + free bits",
    ),
    "cvae": dict(experiment="cvae_mnist", kind="cvae", what="conditional VAE, 2 latents"),
    "m2": dict(experiment="m2_mnist", kind="m2", what="M2, 100 labels"),
    "ae_under": dict(experiment="ae_undercomplete_mnist", kind="ae", what="AE", code="under"),
    "ae_complete": dict(experiment="ae_complete_mnist", kind="ae", what="AE", code="complete"),
    "ae_over": dict(experiment="ae_overcomplete_mnist", kind="ae", what="AE", code="over"),
    "dae": dict(experiment="dae_mnist", kind="ae", what="denoising AE", code="over"),
    "cae": dict(experiment="cae_mnist", kind="ae", what="contractive AE", code="over"),
    "sparse_ae": dict(experiment="sparse_ae_mnist", kind="ae", what="sparse AE", code="over"),
}

_NLL = "iwae_nll_nats"
EXPECTATIONS = [
    dict(text="IWAE below the plain VAE (test NLL)", row="iwae", op="<", than="vae", metric=_NLL),
    dict(text="VampPrior below the plain VAE", row="vamp", op="<", than="vae", metric=_NLL),
    dict(text="Ladder VAE below the one-layer VAE", row="ladder", op="<", than="vae", metric=_NLL),
    dict(
        text="warm-up raises active units (collapse-prone)",
        row="wide_warmup",
        op=">",
        than="wide",
        metric="active_units",
    ),
    dict(
        text="free bits raise active units (collapse-prone)",
        row="wide_free_bits",
        op=">",
        than="wide",
        metric="active_units",
    ),
    dict(
        text="M2 (100 labels) beats a classifier on the same 100 labels",
        row="m2",
        op="<",
        than="m2",
        metric="test_error",
        than_metric="labelled_only_test_error",
    ),
    dict(
        text="CVAE samples recognised as the requested class >= 90%",
        row="cvae",
        op=">=",
        value=0.9,
        metric="conditional_sample_accuracy",
    ),
    # The DAE is judged on the corruption it is trained with (masking 25%, evaluated at 50%);
    # the CAE, trained on clean images, on additive Gaussian noise.
    dict(
        text="denoising AE maps masked inputs towards the clean ones (ratio < 1)",
        row="dae",
        op="<",
        value=1.0,
        metric="denoise_masking_ratio",
    ),
    dict(
        text="contractive AE maps noisy inputs towards the clean ones (ratio < 1)",
        row="cae",
        op="<",
        value=1.0,
        metric="denoise_gaussian_ratio",
    ),
]

PUBLISHED = [
    dict(
        method="VAE (1 stochastic layer, k=1)",
        value="86.76",
        protocol="50 latents, 2x200 tanh, 3280 passes, K=5000, dynamic binarisation",
        source="Burda et al. 2016, Table 1",
    ),
    dict(
        method="IWAE (1 layer, k=50)",
        value="84.78",
        protocol="as above",
        source="Burda et al. 2016, Table 1",
    ),
    dict(
        method="VAE, 2 stochastic layers / IWAE k=50",
        value="85.33 / 82.90",
        protocol="as above",
        source="Burda et al. 2016, Table 1",
    ),
    dict(
        method="VAE standard prior / VampPrior",
        value="88.56 / 85.57",
        protocol="MLP, 40 latents, warm-up, K=5000, dynamic binarisation",
        source="Tomczak & Welling 2018, Table 2",
    ),
    dict(
        method="M2, 100 labels (test error)",
        value="11.97% (± 1.71)",
        protocol="MLP 500-500, 50 latents, long training",
        source="Kingma et al. 2014, Table 1",
    ),
    dict(
        method="NN on 100 labels (test error)",
        value="25.80%",
        protocol="supervised baseline",
        source="Kingma et al. 2014, Table 1",
    ),
]
