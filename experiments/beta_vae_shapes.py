"""β-VAE (Higgins et al. 2017, β = 4) on the generated `shapes` dataset, for disentanglement.

The demo's MLP VAE on 32x32 dSprites-style sprites with 10 latents and the KL weighted by 4, the
setting in which β-VAE is known to align latents with the ground-truth factors (shape, scale,
orientation, x, y). ``scripts/evaluate.py`` scores it with every disentanglement metric.

  python scripts/train.py --config experiments/beta_vae_shapes.py --workdir runs/beta_vae_shapes
  python scripts/evaluate.py --workdir runs/beta_vae_shapes --profile paper
"""

from experiments import demo


def get_config():
    c = demo.get_config()
    c.elbo.beta = 4.0
    c.train.num_steps = 10000
    return c
