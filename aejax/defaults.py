"""The config schema: every key an experiment may set, with its default.

Experiments start from :func:`base_config` and change what they need; the command line can then
override any key (``--config.objective.beta=4``) and nothing else, because configs are locked.
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict


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
    # Source-specific options; only the group of the source that serves data.name is used.
    c.data.shapes = ml_collections.ConfigDict(
        dict(resolution=64, num_train=20000, num_test=2000, seed=0)
    )
    c.data.idx = ml_collections.ConfigDict(dict(verify=True))  # sha256 check of known files
    c.data.tfds = ml_collections.ConfigDict(
        dict(image_key="image", label_key="label", max_examples=0)  # 0 = all
    )

    c.model = ml_collections.ConfigDict()
    c.model.latent_dim = 20
    c.model.posterior = "gaussian"  # "gaussian" (VAE) | "delta" (deterministic AE)
    c.model.likelihood = "bernoulli"  # "bernoulli" | "gaussian"
    c.model.gaussian_sigma = "fixed"  # "fixed" | "shared" | "per_pixel"
    c.model.fixed_sigma = 1.0
    # Hierarchical VAE (Ladder VAE): widths of the stochastic layers above the latent_dim-wide
    # bottom one, bottom to top; () = a single stochastic layer.
    c.model.ladder = ml_collections.ConfigDict(dict(latent_dims=(), hidden=(256,)))
    c.model.num_classes = 0  # > 0: condition encoder and decoder on the label (CVAE, M2)
    # Second player for adversarial objectives (factor_vae, wae_gan, aae): an MLP on codes.
    c.model.critic = ml_collections.ConfigDict(
        dict(hidden=(1000, 1000, 1000), activation="leaky_relu")
    )
    c.model.classifier = ml_collections.ConfigDict(dict(hidden=(500, 500), activation="relu"))
    c.model.encoder = ml_collections.ConfigDict(
        dict(kind="mlp", hidden=(500,), channels=(32, 32, 64, 64), dense=256, activation="relu")
    )
    c.model.decoder = ml_collections.ConfigDict(
        dict(
            kind="mlp",
            hidden=(500,),
            channels=(64, 64, 32, 32),
            dense=256,
            activation="relu",
            upsample="resize",  # conv decoders: "resize" (nearest + 3x3 conv) | "transpose"
        )
    )

    c.objective = ml_collections.ConfigDict()
    c.objective.name = "elbo"  # "elbo" | "reconstruction"
    c.objective.beta = 1.0
    c.objective.gamma = 10.0  # factor_vae: weight of the total-correlation term
    c.objective.lam = 1.0  # wae_gan / aae: weight of the adversarial term
    c.objective.alpha = 0.0  # m2: weight of -log q(y|x) on labelled data; 0 = 0.1 * num_labelled

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
    return c


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists become tuples (JSON round trips of configs)."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out
