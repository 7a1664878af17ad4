"""A small conv VAE on MNIST: the model of the conv-type comparison (``scripts/conv_table.py``).

Encoder: two stride-2 4x4 convs (16, 32 channels), dense 128; decoder: dense 128, a 7x7x32 map,
two x2 upsamplings (resize + 3x3 conv) to 28x28 Bernoulli logits; 16 latents. The conv type,
upsampling, blocks, norm and dropout are the keys of ``model.encoder`` / ``model.decoder``:

  python scripts/train.py --config experiments/conv_vae.py --workdir runs/conv_vae \\
      --config.model.encoder.conv=separable --config.model.decoder.conv=separable
  python scripts/evaluate.py --workdir runs/conv_vae --iwae_k 0
"""

from aejax.defaults import base_config


def get_config():
    c = base_config()
    c.data.name = "mnist"
    c.data.binarize = "dynamic"
    c.model.latent_dim = 16
    c.model.likelihood = "bernoulli"
    for net, channels in (("encoder", (16, 32)), ("decoder", (32, 16))):
        c.model[net].kind = "conv"
        c.model[net].channels = channels
        c.model[net].dense = 128
    c.objective.name = "elbo"
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 64
    c.train.num_epochs = 10
    # XLA:CPU runs convolutions in a rolled loop ~10x slower: unroll chunks of 10 steps.
    c.train.steps_per_call = 10
    c.train.scan_unroll = 10
    return c
