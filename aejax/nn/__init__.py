"""Networks: arrays in, arrays out. They neither sample nor compute losses."""

from aejax.nn.conv import ConvDecoder, ConvEncoder
from aejax.nn.critic import MLPCritic
from aejax.nn.mlp import MLPDecoder, MLPEncoder

__all__ = ["ConvDecoder", "ConvEncoder", "MLPCritic", "MLPDecoder", "MLPEncoder"]
