"""The `make demo` run: a VAE on the generated `shapes` dataset (dSprites-style), CPU-friendly.

Needs no downloads: the 32x32 sprites are rendered from their ground-truth factors (shape, scale,
orientation, x, y), so evaluation can draw latent traversals. An MLP encoder/decoder keeps the
run within a few minutes on 2 CPU cores (for conv networks set
``--config.model.encoder.kind=conv --config.model.decoder.kind=conv`` and, on CPU,
``--config.train.steps_per_call=10 --config.train.scan_unroll=10``: XLA:CPU runs convolutions in a
rolled loop about 10x slower).

  python scripts/train.py --config experiments/demo.py --workdir runs/demo
  python scripts/evaluate.py --workdir runs/demo
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "shapes"
    c.data.shapes.resolution = 32
    c.data.shapes.num_train = 20000
    c.data.shapes.num_test = 2000
    c.model.latent_dim = 10
    c.model.encoder.kind = "mlp"
    c.model.encoder.hidden = (512, 256)
    c.model.encoder.channels = (32, 32, 64)
    c.model.decoder.kind = "mlp"
    c.model.decoder.hidden = (256, 512)
    c.model.decoder.channels = (64, 32, 32)
    c.model.likelihood = "bernoulli"
    c.objective.name = "elbo"
    c.elbo.beta = 1.0
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 64
    c.train.num_steps = 6000
    c.train.log_every = 200
    c.train.checkpoint_every = 2000
    c.train.steps_per_call = 200
    c.eval.iwae_k = 500
    c.eval.max_samples_per_call = 100_000
    return c
