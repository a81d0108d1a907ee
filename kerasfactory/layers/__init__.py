"""The public layers of kerasfactory."""

from kerasfactory.layers.fixed_embedding import FixedEmbedding
from kerasfactory.layers.positional_embedding import PositionalEmbedding
from kerasfactory.layers.sinusoid import sinusoid_table
from kerasfactory.layers.temporal_embedding import TemporalEmbedding
from kerasfactory.layers.time_feature_embedding import TimeFeatureEmbedding
from kerasfactory.layers.token_embedding import TokenEmbedding

__all__ = [
    "FixedEmbedding",
    "TemporalEmbedding",
    "TimeFeatureEmbedding",
    "PositionalEmbedding",
    "TokenEmbedding",
    "sinusoid_table",
]
