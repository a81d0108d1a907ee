import keras
from keras import ops

from kerasfactory.layers import validation
from kerasfactory.layers.sinusoid import shared_table


@keras.saving.register_keras_serializable(package="kerasfactory")
class PositionalEmbedding(validation.Layer):
    """Fixed sinusoidal position embedding.

    `pe[p, 2i] = sin(p / 10000^(2i/d_model))`,
    `pe[p, 2i+1] = cos(p / 10000^(2i/d_model))`; the layer returns the first
    `time` rows. The table is a constant in float32 (then cast to the compute
    dtype): it is neither trainable nor saved as a weight. Only the rows a call
    reads are computed, once per length and shared between layers, so
    construction is free and a first call costs milliseconds.

    Args:
        max_len: the longest sequence the table covers. Defaults to 5000.
        d_model: embedding size (keyword-only; odd sizes end in a sine column).

    Input shape: `(batch, time, ...)`; only `time` is read.
    Output shape: `(1, time, d_model)`, broadcastable against the input's
    embedding: `x + PositionalEmbedding(max_len, d_model=d)(x)`.

    Example:
    >>> x = keras.random.normal((2, 96, 64))
    >>> PositionalEmbedding(max_len=96, d_model=64)(x).shape
    (1, 96, 64)

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    """

    def __init__(self, max_len=5000, *, d_model, **kwargs):
        super().__init__(**kwargs)
        self.max_len = validation.positive_int("max_len", max_len)
        self.d_model = validation.positive_int("d_model", d_model)

    def call(self, inputs):
        if len(inputs.shape) < 2:
            raise ValueError(f"`inputs` must have rank >= 2 (batch, time, ...), got shape {tuple(inputs.shape)}")
        time = inputs.shape[1]
        if time is not None and time > self.max_len:
            raise ValueError(f"`inputs` time length must be <= `max_len`={self.max_len}, got {time}")
        if time is None:  # symbolic time: slice the whole table
            table = ops.cast(shared_table(self.max_len, self.d_model), self.compute_dtype)
            return table[None, : ops.shape(inputs)[1]]
        return ops.cast(shared_table(time, self.d_model)[None], self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (1, input_shape[1], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(max_len=self.max_len, d_model=self.d_model)
        return config
