"""The config schema: every key an experiment may set, with its default.

Experiments start from :func:`base_config` and change what they need; the command line can then
override any key (``--config.elbo.beta=4``) and nothing else, because configs are locked.
"""

from __future__ import annotations

from collections.abc import Mapping

import ml_collections
from ml_collections import config_dict

from aejax import config_keys

# Options every encoder and decoder takes (see aejax/nn/layers.py).
_NETWORK_OPTIONS = dict(
    conv="standard", dilation=2, blocks=0, block="residual", norm="none", dropout=0.0
)


def base_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.name = "shapes"  # "shapes" | an IDX directory name ("mnist", ...) | "tfds:NAME"
    c.data.dir = config_dict.placeholder(str)  # explicit directory; else the search path
    c.data.binarize = "none"  # "none" | "static" (x > 0.5) | "dynamic" (resampled per epoch)
    c.data.num_train = 0  # 0 = the whole split; else the first N examples
    c.data.num_test = 0
    # Semi-supervised training (M2): the labels of only this many training examples are used,
    # the same number per class, chosen from the seed; 0 = not semi-supervised.
    c.data.num_labelled = 0
    c.data.labelled_batch_size = 100  # labelled examples added to every batch
    c.data.exclude_class = -1  # >= 0: drop this label from the training split (anomaly detection)
    # Source-specific options; only the group of the source that serves data.name is used.
    c.data.shapes = ml_collections.ConfigDict(
        dict(resolution=64, num_train=20000, num_test=2000, seed=0)
    )
    # Sequences [T, H, W, 1] of bouncing sprites (Moving-MNIST style); frames=True flattens them
    # to single frames [H, W, 1] for frame-wise baselines.
    c.data.moving_sprites = ml_collections.ConfigDict(
        dict(
            num_train=2000,
            num_test=200,
            resolution=64,
            num_frames=20,
            num_sprites=2,
            frames=False,
            seed=0,
        )
    )
    c.data.audio = ml_collections.ConfigDict(  # generated tones, chirps, noise bursts
        dict(num_train=2000, num_test=500, length=1024, sample_rate=8000, seed=0)
    )
    c.data.idx = ml_collections.ConfigDict(dict(verify=True))  # sha256 check of known files
    c.data.tfds = ml_collections.ConfigDict(
        dict(image_key="image", label_key="label", max_examples=0)  # 0 = all
    )

    c.model = ml_collections.ConfigDict()
    c.model.latent_dim = 20
    c.model.posterior = "gaussian"  # "gaussian" (VAE) | "delta" (deterministic AE)
    # "bernoulli" | "gaussian" | "continuous_bernoulli" | "logistic" | "logistic_mixture"
    c.model.likelihood = "bernoulli"
    c.model.gaussian_sigma = "fixed"  # "fixed" | "shared" | "per_pixel"
    c.model.fixed_sigma = 1.0
    c.model.logistic_components = 5  # "logistic_mixture": components per pixel and channel
    c.model.prior = "standard_normal"  # "standard_normal" | "mixture" | "vamp" | "flow"
    c.model.prior_components = 10  # "mixture": Gaussians; "vamp": pseudo-inputs
    c.model.flow_layers = 4  # "flow": RealNVP affine coupling layers
    c.model.flow_hidden = (64, 64)  # "flow": hidden widths of each coupling's conditioner MLP
    # Hierarchical VAE (Ladder VAE): widths of the stochastic layers above the latent_dim-wide
    # bottom one, bottom to top; () = a single stochastic layer.
    c.model.ladder = ml_collections.ConfigDict(dict(latent_dims=(), hidden=(256,)))
    c.model.num_classes = 0  # > 0: condition encoder and decoder on the label (CVAE, M2)
    # Second player for adversarial objectives (factor_vae, wae_gan, aae): an MLP on codes.
    c.model.critic = ml_collections.ConfigDict(
        dict(hidden=(1000, 1000, 1000), activation="leaky_relu")
    )
    c.model.classifier = ml_collections.ConfigDict(dict(hidden=(500, 500), activation="relu"))
    # kind="convlstm" (encoder and decoder, for sequences such as moving_sprites): channels are
    # the per-frame conv widths; the recurrent part is set here.
    c.model.convlstm = ml_collections.ConfigDict(
        dict(features=32, kernel_size=5, context_frames=10, peephole=True)
    )
    # Networks: kind "mlp" (hidden), "conv" (channels, dense) or "wavenet" (1-D dilated causal
    # convs over the H*W raster sequence; channels, dense, blocks). Every kind takes norm
    # ("none" | "batch" | "layer" | "group") and dropout (rate of each hidden layer); conv and
    # wavenet take conv ("standard" | "separable" | "dilated", dilation) and blocks per stage
    # (block: "residual" | "van", VAN's large-kernel attention; wavenet: gated causal blocks).
    c.model.encoder = ml_collections.ConfigDict(
        dict(
            kind="mlp",
            hidden=(500,),
            channels=(32, 32, 64, 64),
            dense=256,
            activation="relu",
            **_NETWORK_OPTIONS,
        )
    )
    c.model.decoder = ml_collections.ConfigDict(
        dict(
            kind="mlp",  # "mlp" | "conv" | "convlstm" (sequences)
            hidden=(500,),
            channels=(64, 64, 32, 32),
            dense=256,
            activation="relu",
            upsample="resize",  # conv decoders: "resize" (nearest + 3x3 conv) | "transpose"
            **_NETWORK_OPTIONS,
        )
    )

    c.objective = ml_collections.ConfigDict()
    # The bound: "elbo" | "reconstruction" | "capacity_vae" | "iwae" | "beta_tcvae" | "wae_mmd"
    # | "factor_vae" | "wae_gan" | "aae" | "m2". A bound's own settings are in the config group
    # of its name (below); this group holds what composes with any bound. Numbers are hparams
    # (arrays: changing one never recompiles) unless marked static.
    c.objective.name = "elbo"
    # MMD between q(z) and p(z): wae_mmd's term, or an extra term on any bound (InfoVAE).
    c.objective.mmd_kernel = "imq"  # static: "imq" (sum over scales) | "rbf"
    c.objective.mmd_scale = 1.0  # prior variance per dimension; kernel width C = 2 * D * scale
    # Extra terms, compiled in when their weight is > 0.
    c.objective.mmd_weight = 0.0  # InfoVAE: MMD term added to the bound
    c.objective.dip_type = "i"  # static: DIP-VAE "i" (Cov[mu]) | "ii" (Cov[mu] + E[sigma^2])
    c.objective.dip_lambda_od = 0.0  # off-diagonal weight
    c.objective.dip_lambda_d = 0.0  # diagonal weight
    c.objective.l1_weight = 0.0  # sparse AE: L1 norm of the code
    c.objective.sparsity_weight = 0.0  # sparse AE: KL(target || mean sigmoid(code))
    c.objective.sparsity_target = 0.05
    c.objective.contractive_weight = 0.0  # contractive AE: ||d code / d x||_F^2
    # Denoising: the encoder sees a corrupted image; the bound scores the clean one.
    c.objective.corruption = "none"  # static: "none" | "gaussian" | "masking"
    c.objective.noise_std = 0.5  # gaussian
    c.objective.mask_prob = 0.25  # masking: probability that a pixel is set to 0
    # Keys of the old flat schema (objective.beta, ...), accepted and moved to their new place
    # with a note (aejax/config_keys.py); a run's config never keeps them.
    c.objective.update(config_keys.legacy_placeholders())

    # Each bound's own settings, in the group of its name; a run's config keeps only its own
    # bound's group (aejax/build/settle.py).
    c.elbo = ml_collections.ConfigDict()  # also the graph autoencoders' (VGAE) bound
    c.elbo.beta = 1.0  # weight of the KL term (beta-VAE, Higgins et al. 2017)
    # KL schedule (static kind) and free bits (Kingma et al. 2016).
    c.elbo.kl_schedule = "constant"  # static: "constant" | "linear" | "cyclical"
    c.elbo.kl_warmup_steps = 10000  # linear: KL weight rises 0 -> 1 over this many steps
    c.elbo.kl_cycle_steps = 10000  # cyclical (Fu et al. 2019): steps per cycle
    c.elbo.kl_cycle_ratio = 0.5  # cyclical: fraction of a cycle spent rising
    c.elbo.free_bits = 0.0  # nats per group; 0 = off
    c.elbo.free_bits_groups = 0  # static: groups of latents; 0 = one per dimension
    # Burgess et al. 2018: recon + weight * |KL - C|, the capacity C rising to capacity_max.
    c.capacity_vae = ml_collections.ConfigDict(
        dict(weight=10.0, capacity_max=25.0, capacity_steps=100000)  # capacity_max in nats
    )
    c.iwae = ml_collections.ConfigDict(dict(num_samples=5))  # static: importance samples K
    # Chen et al. 2018: recon + mi_weight * MI + tc_weight * TC + dwkl_weight * DWKL.
    c.beta_tcvae = ml_collections.ConfigDict(
        dict(
            tc_weight=1.0,  # the paper's beta
            mi_weight=1.0,
            dwkl_weight=1.0,
            tc_estimator="mss",  # static: "mss" (stratified) | "mws" (weighted)
        )
    )
    # Kim & Mnih 2018: the ELBO plus tc_weight (the paper's gamma) times the critic's TC estimate.
    c.factor_vae = ml_collections.ConfigDict(dict(tc_weight=10.0))
    # Tolstikhin et al. 2018: recon + weight (the paper's lambda) * MMD(q(z), p(z)); the kernel
    # is objective.mmd_kernel / objective.mmd_scale.
    c.wae_mmd = ml_collections.ConfigDict(dict(weight=1.0))
    # Weight of the critic-based term that pushes q(z) towards p(z) (WAE-GAN's lambda; AAE).
    c.wae_gan = ml_collections.ConfigDict(dict(adversarial_weight=1.0))
    c.aae = ml_collections.ConfigDict(dict(adversarial_weight=1.0))
    # Kingma et al. 2014: weight of the labelled mean of -log q(y|x) (the paper's alpha).
    c.m2 = ml_collections.ConfigDict(dict(classification_weight=0.1))

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"  # "adam" | "adamw" | "sgd" | "rmsprop"
    c.optimizer.learning_rate = 1e-3
    c.optimizer.b1 = 0.9
    c.optimizer.b2 = 0.999
    c.optimizer.eps = 1e-8
    c.optimizer.momentum = 0.9  # sgd / rmsprop
    c.optimizer.weight_decay = 0.0  # adamw
    c.optimizer.clip_norm = 0.0  # global-norm clipping; 0 = off
    c.optimizer.schedule = "constant"  # "constant" | "cosine" | "linear"
    c.optimizer.warmup_steps = 0
    c.optimizer.final_fraction = 0.0  # cosine/linear end value as a fraction of the peak
    # "stages": stage i lasts stage_epochs * stage_growth**i epochs at the rate * stage_decay**i
    c.optimizer.stage_epochs = 1.0
    c.optimizer.stage_growth = 3.0
    c.optimizer.stage_decay = 0.1 ** (1 / 7)  # Burda et al. 2016: 10**(-i/7) in stage i
    # The critic's own Adam (two-player objectives); Kim & Mnih 2018 use lr 1e-4, b1 0.5, b2 0.9.
    c.optimizer.critic = ml_collections.ConfigDict(dict(learning_rate=1e-4, b1=0.5, b2=0.9))

    c.train = ml_collections.ConfigDict()
    c.train.batch_size = 128
    c.train.num_steps = 0  # give exactly one of num_steps / num_epochs
    c.train.num_epochs = 0
    c.train.log_every = 100
    c.train.checkpoint_every = 1000
    c.train.keep_checkpoints = 3
    c.train.steps_per_call = 500  # steps per dispatch (lax.scan); capped at one epoch
    # Steps unrolled per iteration of that scan. XLA:CPU runs convolutions inside a rolled loop
    # far slower (docs/performance.md), so conv experiments set it (with a small steps_per_call:
    # compile time grows with it); MLPs gain nothing from it. Above 1, inactive steps of a short
    # chunk are computed and discarded (a select, not a lax.cond), so keep log/checkpoint
    # intervals multiples of it.
    c.train.scan_unroll = 1
    c.train.on_nonfinite = "stop"  # "stop" | "skip"
    c.train.progress = True
    c.train.log_example_ids = False  # debug: examples.jsonl lists the example ids of every step
    c.train.debug_checks = False  # debug: run the step under checkify float checks (slower)
    # float32 matmul/conv precision: "default" (bf16 passes on TPU, TF32 on Ampere+ GPUs),
    # "high", "highest" (full float32 everywhere); applied with jax.default_matmul_precision.
    c.train.matmul_precision = "default"
    # Several devices: batch split over all of jax.devices() (data parallel); shard_params also
    # splits large parameters and their optimizer moments over the devices (for large models).
    c.train.data_parallel = True
    c.train.shard_params = False

    c.eval = ml_collections.ConfigDict()
    c.eval.iwae_k = 5000
    c.eval.batch_size = 500  # test examples per evaluation batch
    c.eval.max_samples_per_call = 100_000  # bounds memory: examples x importance samples per call
    # Evaluation during training (images kind; aejax.evaluation.periodic): the parts named in
    # periodic run on the current parameters every every_steps (0 = at the end of every epoch;
    # always at the last step) on the first num_examples (0 = all) of split, with fixed keys
    # (training results are bitwise the same with or without it). Each logs "<split>/<metric>"
    # rows (e.g. test/neg_elbo_nats, test/iwae_nll_nats) to metrics.jsonl and TensorBoard. Only
    # parts that produce numbers may be periodic ("likelihood"); "" = none. Not in vmapped sweeps
    # (aejax.sweep.vmapped) nor graph runs; skipped for sequence runs.
    c.evals = ml_collections.ConfigDict()
    c.evals.periodic = "likelihood"
    c.evals.split = "test"  # "test" | "train"
    c.evals.every_steps = 0
    # Cheap by default (about 4% of an epoch of vae_mnist after the first evaluation; measured in
    # docs/performance.md): the ELBO on 1,000 test images, IWAE with K=16 on the first 100.
    c.evals.num_examples = 1000  # the negative ELBO, KL, reconstruction: on this many (0 = all)
    c.evals.iwae_k = 16  # a cheap IWAE bound: K importance samples ...
    c.evals.iwae_num_examples = 100  # ... on the first this many examples (0 = all; K=0: none)
    # A metric such as "test/neg_elbo_nats": WORKDIR/best/ keeps the state where it was best
    # (lower is better) and best.json says {metric, value, step}; "" = off.
    c.evals.keep_best = ""
    # Graph autoencoders (GAE/VGAE, aejax.graph): used when data.name is "planetoid:NAME".
    c.graph = ml_collections.ConfigDict(
        dict(
            features=True,  # False: featureless (identity features), e.g. PubMed offline
            hidden=32,  # first GCN layer width; model.latent_dim is the code width
            num_runs=10,  # seeds seed, seed+1, ...: each with its own edge split and init
            val_fraction=0.05,  # held-out edges (and as many non-edges) per split
            test_fraction=0.10,
            negatives=0,  # 0: dense N^2 reconstruction (reference); k: k sampled pairs per edge
            cluster=True,  # evaluate.py: K-means node clustering of the embeddings
        )
    )
    return c


def pick_variant(variants: dict, variant: str | None, where: str) -> dict:
    """The settings of ``variant`` among a config file's ``variants`` (``None`` or ``""``: the
    file's own config, which ``variants[""]`` must hold); ``where`` names the file in the
    ``ValueError`` listing the choices."""
    if (variant or "") not in variants:
        raise ValueError(
            f"{where}:{variant}: no such variant; choose one of "
            f"{', '.join(v for v in variants if v)}"
        )
    return variants[variant or ""]


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists become tuples (JSON round trips of configs)."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


LENGTH_KEYS = ("train.num_steps", "train.num_epochs")


def choose_length(config: ml_collections.ConfigDict, chosen: Mapping[str, object]):
    """Applies an explicit choice of training length to ``config`` (in place) and returns it.

    ``chosen`` holds flat keys given explicitly: the command line's ``--config.KEY=V`` overrides
    or a sweep member's values. When it sets exactly one of ``train.num_steps`` and
    ``train.num_epochs`` to a non-zero value, the other is set to 0, so ``--config.train.
    num_steps=300`` works on a config file that trains for ``num_epochs``. Nothing else is
    touched: a config file that sets both (or a command line that gives both) is still refused
    by :func:`aejax.build.build_experiment`. Both keys may change when a run resumes
    (``RESUMABLE_CHANGES``), so a resume may name the other key.
    """
    given = [k for k in LENGTH_KEYS if k in chosen]
    if len(given) == 1 and chosen[given[0]]:
        (other,) = set(LENGTH_KEYS) - set(given)
        config.train[other.split(".")[1]] = 0
    return config
