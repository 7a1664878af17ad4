"""Networks: arrays in, arrays out. They neither sample nor compute losses."""

from aejax.nn import layers
from aejax.nn.conv import ConvDecoder, ConvEncoder
from aejax.nn.conv1d import CausalStack, WaveNetDecoder, WaveNetEncoder
from aejax.nn.critic import MLPCritic
from aejax.nn.mlp import MLPDecoder, MLPEncoder

__all__ = [
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
