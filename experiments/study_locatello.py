"""Locatello et al. (2019)'s disentanglement study grid: six methods x six hyperparameter values.

The study's members are, for each method named in ``config.study.methods``, its entry of
:data:`METHODS` here: the method's objective settings (``base``), the key its hyperparameter sets
(``key``), the six values (``values``) and keys tied to that value (``tied``: key -> factor, e.g.
DIP-VAE-I's ``lambda_d = 10 lambda_od``), times ``config.study.seeds`` seeds. The rest of the
config is what every member shares:

- default (an accelerator): 64x64 sprites (``shapes``, dSprites' factor grid), the study's
  network (four 4x4 stride-2 convs 32-32-64-64, dense 256, 10 latents; the decoder mirrors it with
  4x4 stride-2 transposed convs), Bernoulli likelihood, Adam 1e-4, batch 64, 300,000 steps,
  AnnealedVAE's capacity rising over the first 100,000; 5 seeds per point (the paper: 50).
- ``:cpu``, the reduced variant for 2 CPU cores: 32x32 sprites, the demo's MLP (512-256 /
  256-512), Adam 1e-3, 3,000 steps (capacity over the first 1,000), 2 seeds, and the metrics
  with aejax_v1's estimators on 2,000 / 1,000 combinations (the study protocol's fixed sizes
  encode about 2.9 million images per representation and member).

  python scripts/study.py --config experiments/study_locatello.py:cpu --workdir runs/study_cpu

A member's config is this config with :func:`member_overrides` applied.
"""

import ml_collections

from aejax.defaults import base_config, pick_variant

# method -> objective settings, the hyperparameter's key and values, keys tied to it (factors)
METHODS = {
    "beta_vae": dict(
        base={"objective.name": "elbo"}, key="elbo.beta", values=(1, 2, 4, 6, 8, 16), tied={}
    ),
    "annealed_vae": dict(
        base={"objective.name": "capacity_vae", "capacity_vae.weight": 1000.0},
        key="capacity_vae.capacity_max",
        values=(5, 10, 25, 50, 75, 100),
        tied={},
        weaker_with_value=True,  # more capacity, less regularisation
    ),
    "factor_vae": dict(
        base={"objective.name": "factor_vae"},
        key="factor_vae.tc_weight",
        values=(10, 20, 30, 40, 50, 100),
        tied={},
    ),
    "dip_vae_i": dict(
        base={"objective.name": "elbo", "objective.dip_type": "i"},
        key="objective.dip_lambda_od",
        values=(1, 2, 5, 10, 20, 50),
        tied={"objective.dip_lambda_d": 10.0},
    ),
    "dip_vae_ii": dict(
        base={"objective.name": "elbo", "objective.dip_type": "ii"},
        key="objective.dip_lambda_od",
        values=(1, 2, 5, 10, 20, 50),
        tied={"objective.dip_lambda_d": 1.0},
    ),
    "beta_tcvae": dict(
        base={"objective.name": "beta_tcvae"},
        key="beta_tcvae.tc_weight",
        values=(1, 2, 4, 6, 8, 10),
        tied={},
    ),
}

# variant -> what it changes: resolution, network, learning rate, steps, seeds, metric protocol
VARIANTS = {
    "": dict(resolution=64, network="conv", learning_rate=1e-4, steps=300_000, seeds=5,
             protocol="dlib_study_v1", num_train=10_000, num_test=5_000),
    "cpu": dict(resolution=32, network="mlp", learning_rate=1e-3, steps=3_000, seeds=2,
                protocol="aejax_v1", num_train=2_000, num_test=1_000),
}  # fmt: skip


def get_config(variant: str | None = None):
    v = pick_variant(VARIANTS, variant, "experiments/study_locatello.py")
    c = base_config()
    c.data.name = "shapes"
    c.data.shapes.resolution = v["resolution"]
    c.model.latent_dim = 10
    c.model.likelihood = "bernoulli"
    for net in (c.model.encoder, c.model.decoder):
        net.kind = v["network"]
    c.model.encoder.hidden, c.model.decoder.hidden = (512, 256), (256, 512)
    c.model.decoder.upsample = "transpose"  # the study's 4x4 stride-2 transposed convs
    c.optimizer.learning_rate = v["learning_rate"]
    c.train.batch_size = 64
    c.train.num_steps = v["steps"]
    c.capacity_vae.capacity_steps = v["steps"] // 3  # the paper: 100,000 of 300,000
    c.study = ml_collections.ConfigDict(
        dict(
            methods=tuple(METHODS),
            num_values=0,  # the first N values of each method's six (0 = all)
            seeds=v["seeds"],
            # the metrics' protocol: disentanglement_lib's study settings on an accelerator;
            # aejax_v1's estimators on smaller samples on a CPU (num_train / num_test)
            protocol=v["protocol"],
            num_train=v["num_train"],
            num_test=v["num_test"],
        )
    )
    return c


def weaker_with_value(method: str) -> bool:
    """Whether a larger value of ``method``'s hyperparameter regularises less (AnnealedVAE's
    capacity), which the study's report needs to read trends in regularisation strength."""
    return bool(METHODS[method].get("weaker_with_value", False))


def study_points(config) -> dict[str, list[tuple[float, dict]]]:
    """``{method: [(value, the config keys its member sets), ...]}`` for ``config.study.methods``
    (the input of :func:`aejax.sweep.study.run_study`)."""
    unknown = [m for m in config.study.methods if m not in METHODS]
    if unknown:
        raise ValueError(f"study.methods: unknown {unknown}; choose from {', '.join(METHODS)}")
    n = int(config.study.num_values) or None
    return {
        m: [(float(v), member_overrides(m, v)) for v in METHODS[m]["values"][:n]]
        for m in config.study.methods
    }


def member_overrides(method: str, value: float) -> dict:
    """The config keys one member of ``method`` with hyperparameter ``value`` sets."""
    spec = METHODS[method]
    tied = {key: factor * value for key, factor in spec["tied"].items()}
    return {**spec["base"], spec["key"]: float(value), **tied}
