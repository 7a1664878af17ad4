"""ConvLSTM sequence autoencoder / next-frame predictor on moving_sprites (CPU-sized).

Encoder-forecaster ConvLSTM (Shi et al. 2015) with a reconstruction branch (Srivastava et al.
2015): it reads 5 frames of a 10-frame, 32x32 sequence of two bouncing sprites, reconstructs them
and predicts the next 5. The default is the deterministic autoencoder; ``:vae`` selects the VAE
(Gaussian posterior over a 64-d code, negative ELBO). On a GPU use the Moving-MNIST size:
``--config.data.moving_sprites.resolution=64 --config.data.moving_sprites.num_frames=20
--config.model.convlstm.context_frames=10``.

  python scripts/train.py --config experiments/convlstm_moving_sprites.py --workdir runs/convlstm
  python scripts/train.py --config experiments/convlstm_moving_sprites.py:vae --workdir runs/cvae
  python scripts/train.py --config experiments/convlstm_framewise.py --workdir runs/framewise
  python scripts/evaluate.py --workdir runs/convlstm --baseline_workdir runs/framewise
"""

from aejax.defaults import base_config


def data_config(c):
    """The dataset shared with the frame-wise baseline (experiments/convlstm_framewise.py)."""
    s = c.data.moving_sprites
    c.data.name = "moving_sprites"
    s.resolution = 32
    s.num_frames = 10
    s.num_sprites = 2
    s.num_train = 2000
    s.num_test = 200
    s.seed = 0
    return c


def get_config(variant: str = "ae"):
    c = data_config(base_config())
    c.model.encoder.kind = c.model.decoder.kind = "convlstm"
    c.model.encoder.channels = (8, 16)  # per-frame convs: 32x32 -> 8x8 maps for the ConvLSTMs
    c.model.decoder.channels = (16, 8)
    c.model.convlstm.features = 16
    c.model.convlstm.kernel_size = 5
    c.model.convlstm.context_frames = 5
    c.model.latent_dim = 64
    c.model.likelihood = "bernoulli"
    if variant == "vae":
        c.model.posterior, c.objective.name = "gaussian", "elbo"
    elif variant == "ae":
        c.model.posterior, c.objective.name = "delta", "reconstruction"
    else:
        raise ValueError(f"variant must be 'ae' or 'vae', got {variant!r}")
    c.optimizer.learning_rate = 1e-3
    c.optimizer.clip_norm = 1.0
    c.train.batch_size = 16
    c.train.num_steps = 800
    c.train.log_every = 100
    c.train.checkpoint_every = 400
    c.train.steps_per_call = 10
    c.train.scan_unroll = 10  # conv steps run ~10x faster unrolled on XLA:CPU (train.scan_unroll)
    c.eval.batch_size = 50
    return c
