"""The public layers of kerasfactory."""

from kerasfactory.layers.positional_embedding import PositionalEmbedding
from kerasfactory.layers.sinusoid import sinusoid_table
from kerasfactory.layers.token_embedding import TokenEmbedding

__all__ = [
    "PositionalEmbedding",
    "TokenEmbedding",
    "sinusoid_table",
]
