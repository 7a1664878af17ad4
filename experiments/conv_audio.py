"""A WaveNet-style autoencoder (dilated causal convs) on generated audio clips.

Clips of 1024 samples at 8 kHz (tones, chirps, noise bursts; ``aejax.data.audio``), stored as
``[T, 1, 1]`` in [0, 1]; Gaussian likelihood with a learned shared sigma. Encoder: three stride-2
causal stages (16, 32, 32 channels), each with 4 gated blocks of dilations 1, 2, 4, 8; decoder:
the mirror image with x2 resize + causal conv upsampling; 32 latents.

  python scripts/train.py --config experiments/conv_audio.py --workdir runs/conv_audio
  python scripts/evaluate.py --workdir runs/conv_audio --iwae_k 0
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "audio"
    c.model.latent_dim = 32
    c.model.likelihood = "gaussian"
    c.model.gaussian_sigma = "shared"
    for net, channels in (("encoder", (16, 32, 32)), ("decoder", (32, 32, 16))):
        c.model[net].kind = "wavenet"
        c.model[net].channels = channels
        c.model[net].dense = 0
        c.model[net].blocks = 4
    c.objective.name = "elbo"
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 32
    c.train.num_steps = 1000
    c.train.steps_per_call = 50
    return c
