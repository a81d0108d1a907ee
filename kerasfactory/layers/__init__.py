"""The public layers of kerasfactory."""

from kerasfactory.layers.data_embedding import DataEmbedding, DataEmbeddingWithoutPosition
from kerasfactory.layers.fixed_embedding import FixedEmbedding
from kerasfactory.layers.inverted_embedding import DataEmbeddingInverted
from kerasfactory.layers.patch_embedding import PatchEmbedding
from kerasfactory.layers.positional_embedding import PositionalEmbedding
from kerasfactory.layers.reversible_instance_norm import ReversibleInstanceNorm
from kerasfactory.layers.series_decomposition import SeriesDecomposition
from kerasfactory.layers.sinusoid import sinusoid_table
from kerasfactory.layers.temporal_embedding import TemporalEmbedding
from kerasfactory.layers.time_feature_embedding import TimeFeatureEmbedding
from kerasfactory.layers.token_embedding import TokenEmbedding

__all__ = [
    "DataEmbedding", "DataEmbeddingInverted", "DataEmbeddingWithoutPosition", "FixedEmbedding", "PatchEmbedding",
    "PositionalEmbedding", "ReversibleInstanceNorm", "SeriesDecomposition",
    "TemporalEmbedding", "TimeFeatureEmbedding", "TokenEmbedding",
    "sinusoid_table",
]
