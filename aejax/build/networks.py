"""Encoder, decoder and the objectives' extra networks, from ``config.model``."""

from __future__ import annotations

import ml_collections

from aejax import nn
from aejax.build.checks import choice, positive
from aejax.errors import ConfigError
from aejax.nn.mlp import ACTIVATIONS


def network(c: ml_collections.ConfigDict, key: str, role: str, out):
    """The encoder (``role="encoder"``, ``out`` features) or decoder (``out`` shape) that the
    config group ``c`` (at ``key``) describes, for images ``[H, W, C]``."""
    kind = choice(c.kind, tuple(nn.NETWORKS), f"{key}.kind")
    try:
        hidden = tuple(int(w) for w in c.hidden)
        channels = tuple(int(w) for w in c.channels)
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"{key}.hidden and {key}.channels must be tuples of integers, got "
            f"hidden={c.hidden!r}, channels={c.channels!r}"
        ) from e
    if any(w <= 0 for w in hidden + channels):
        raise ConfigError(
            f"{key}: layer widths must be > 0, got hidden={hidden} channels={channels}"
        )
    if kind != "mlp" and not channels:
        raise ConfigError(f"{key}.channels must list at least one conv layer for kind={kind!r}")
    norm = choice(c.norm, nn.layers.NORMS, f"{key}.norm")
    rate = c.dropout
    if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ConfigError(f"{key}.dropout must be a rate in [0, 1), got {rate!r}")
    common = dict(activation=c.activation, norm=norm, dropout=float(rate))
    encoder_cls, decoder_cls = nn.NETWORKS[kind]
    if kind == "mlp":
        if role == "encoder":
            return encoder_cls(hidden=hidden, out_features=out, **common)
        return decoder_cls(hidden=hidden, out_shape=out, **common)
    common.update(
        conv=choice(c.conv, nn.layers.CONV_TYPES, f"{key}.conv"),
        blocks=int(positive(c.blocks, f"{key}.blocks", allow_zero=True)),
        channels=channels,
        dense=int(positive(c.dense, f"{key}.dense", allow_zero=True)),
    )
    if kind == "conv":
        common.update(
            dilation=int(positive(c.dilation, f"{key}.dilation")),
            block=choice(c.block, nn.layers.BLOCKS, f"{key}.block"),
        )
    if role == "encoder":
        return encoder_cls(out_features=out, **common)
    upsample = choice(c.upsample, nn.layers.UPSAMPLES, f"{key}.upsample")
    return decoder_cls(out_shape=out, upsample=upsample, **common)


def sequence_networks(m: ml_collections.ConfigDict, shape: tuple[int, ...], features, head):
    """ConvLSTM encoder and decoder for sequences shaped ``(T, H, W, C)`` (see aejax.nn.sequence);
    per-frame conv widths come from ``model.{encoder,decoder}.channels``."""
    from aejax.nn.sequence import ConvLSTMDecoder, ConvLSTMEncoder

    kinds = (m.encoder.kind, m.decoder.kind)
    if len(shape) != 4 or kinds != (nn.SEQUENCE_NETWORK, nn.SEQUENCE_NETWORK):
        raise ConfigError(
            f"sequences [T, H, W, C] need model.encoder.kind and model.decoder.kind both "
            f"'{nn.SEQUENCE_NETWORK}' (and ConvLSTM networks need sequences); got data shape "
            f"{shape} and kinds {kinds}. For single frames of moving_sprites set "
            "data.moving_sprites.frames=True and an image network"
        )
    c = m.convlstm
    num_frames = shape[0]
    context = int(c.context_frames)
    if not 1 <= context <= num_frames:
        raise ConfigError(
            f"model.convlstm.context_frames={context} must lie in [1, {num_frames}] (the frames "
            "per sequence); the encoder reads that many, the decoder predicts the rest"
        )
    widths = {n: tuple(int(w) for w in m[n].channels) for n in ("encoder", "decoder")}
    if not all(widths.values()) or min(widths["encoder"] + widths["decoder"]) <= 0:
        raise ConfigError(f"model.encoder/decoder.channels must be non-empty and > 0: {widths}")
    rnn = dict(
        features=int(positive(c.features, "model.convlstm.features")),
        kernel_size=int(positive(c.kernel_size, "model.convlstm.kernel_size")),
        context_frames=context,
        peephole=bool(c.peephole),
    )
    encoder = ConvLSTMEncoder(
        channels=widths["encoder"], out_features=features, activation=m.encoder.activation, **rnn
    )
    out_shape = (*shape[:3], shape[3] * head.params_per_pixel)
    decoder = ConvLSTMDecoder(
        channels=widths["decoder"], out_shape=out_shape, activation=m.decoder.activation, **rnn
    )
    return encoder, decoder


def critic(m: ml_collections.ConfigDict, num_classes: int) -> nn.MLPCritic:
    """``model.critic``: an MLP on codes, ``z [B, D] -> logit [B]`` (adversarial objectives)."""
    del num_classes
    choice(m.critic.activation, tuple(ACTIVATIONS), "model.critic.activation")
    return nn.MLPCritic(
        hidden=tuple(int(w) for w in m.critic.hidden), activation=m.critic.activation
    )


def classifier(m: ml_collections.ConfigDict, num_classes: int) -> nn.MLPEncoder:
    """``model.classifier``: q(y|x), ``x -> class logits [B, num_classes]``."""
    if num_classes < 2:
        raise ConfigError(
            f"this objective classifies labels: set model.num_classes >= 2, got {num_classes}"
        )
    choice(m.classifier.activation, tuple(ACTIVATIONS), "model.classifier.activation")
    return nn.MLPEncoder(
        hidden=tuple(int(w) for w in m.classifier.hidden),
        out_features=num_classes,
        activation=m.classifier.activation,
    )


# The extra networks an objective may declare (ObjectiveSpec.networks): name -> builder. The
# name is also the model's attribute, so the params subtree (and a player's) is params[name].
EXTRA_NETWORKS = {"critic": critic, "classifier": classifier}
