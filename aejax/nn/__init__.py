"""Networks: arrays in, arrays out. They neither sample nor compute losses."""

from aejax.nn import layers
from aejax.nn.conv import ConvDecoder, ConvEncoder
from aejax.nn.conv1d import CausalStack, WaveNetDecoder, WaveNetEncoder
from aejax.nn.critic import MLPCritic
from aejax.nn.mlp import MLPDecoder, MLPEncoder

# model.{encoder,decoder}.kind -> (encoder, decoder) for images [H, W, C]. Sequences
# [T, H, W, C] use SEQUENCE_NETWORK for both (aejax.nn.sequence).
NETWORKS = {
    "mlp": (MLPEncoder, MLPDecoder),
    "conv": (ConvEncoder, ConvDecoder),
    "wavenet": (WaveNetEncoder, WaveNetDecoder),
}
SEQUENCE_NETWORK = "convlstm"

__all__ = [
    "NETWORKS",
    "SEQUENCE_NETWORK",
    "CausalStack",
    "ConvDecoder",
    "ConvEncoder",
    "MLPCritic",
    "MLPDecoder",
    "MLPEncoder",
    "WaveNetDecoder",
    "WaveNetEncoder",
    "layers",
]
