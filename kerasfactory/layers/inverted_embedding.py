import keras
from keras import ops

from kerasfactory.layers import float64_dense, validation


@keras.saving.register_keras_serializable(package="kerasfactory")
class DataEmbeddingInverted(validation.Layer):
    """Inverted embedding: each variate's whole series becomes one token.

    `tokens = [x; x_mark]^T` (the variates, then the mark columns, each a
    series of `seq_len` steps); `y = dropout(tokens @ W + b)` with `W` of
    shape `(seq_len, d_model)`. `value_embedding` is a `keras.layers.Dense`
    initialised like PyTorch's `nn.Linear(seq_len, d_model)` (kernel and bias
    uniform in `±1/sqrt(seq_len)`).

    Args:
        seq_len: the time length of every input.
        d_model: embedding size.
        dropout: dropout rate on the output. Defaults to 0.1.
        seed: optional integer seed of the dropout mask, for training that
            repeats exactly (also on PyTorch, whose unseeded dropout draws
            from the global generator). Defaults to `None`.

    Input shapes: `x` `(batch, seq_len, variates)`; optional `x_mark`
    `(batch, seq_len, mark_columns)` (cast to the compute dtype).
    Output shape: `(batch, variates [+ mark_columns], d_model)`.
    A time length other than `seq_len` is a `ValueError`. NaN/Inf in a
    series propagate to its token.

    Example:
    >>> layer = DataEmbeddingInverted(seq_len=96, d_model=64)
    >>> layer(keras.random.normal((2, 96, 7)), keras.random.normal((2, 96, 4))).shape
    (2, 11, 64)

    Reference: Liu et al., "iTransformer: Inverted Transformers Are Effective
    for Time Series Forecasting", ICLR 2024.
    """

    def __init__(self, seq_len, d_model, dropout=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seq_len = validation.positive_int("seq_len", seq_len)
        self.d_model = validation.positive_int("d_model", d_model)
        self.dropout_rate = validation.probability("dropout", dropout)
        self.seed = validation.seed("seed", seed)
        limit = self.seq_len**-0.5
        self.value_embedding = keras.layers.Dense(
            self.d_model,
            kernel_initializer=keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
            bias_initializer=keras.initializers.RandomUniform(-limit, limit),
            dtype=self.dtype_policy,
            name="value_embedding",
        )
        self.dropout = keras.layers.Dropout(self.dropout_rate, seed=self.seed, dtype=self.dtype_policy, name="dropout")

    def _check(self, x_shape, x_mark_shape):
        for name, shape in (("x", x_shape), ("x_mark", x_mark_shape)) if x_mark_shape else (("x", x_shape),):
            if validation.input_shape(name, shape, 3)[1] not in (None, self.seq_len):
                raise ValueError(
                    f"`{name}` time length must equal `seq_len`={self.seq_len}, got {shape[1]} (shape {tuple(shape)})"
                )
        if x_mark_shape is not None and None not in (x_shape[0], x_mark_shape[0]) and x_shape[0] != x_mark_shape[0]:
            raise ValueError(f"`x_mark` batch size must equal that of `x` ({x_shape[0]}), got {x_mark_shape[0]}")

    def build(self, x_shape, x_mark_shape=None):
        self._check(x_shape, x_mark_shape)
        self.value_embedding.build((None, None, self.seq_len))

    def call(self, x, x_mark=None, training=None):
        self._check(x.shape, None if x_mark is None else x_mark.shape)
        tokens = ops.transpose(ops.cast(x, self.compute_dtype), (0, 2, 1))
        if x_mark is not None:
            marks = ops.transpose(ops.cast(x_mark, self.compute_dtype), (0, 2, 1))
            tokens = ops.concatenate([tokens, marks], axis=1)
        return self.dropout(float64_dense.dense(self.value_embedding, tokens), training=training)

    def compute_output_shape(self, x_shape, x_mark_shape=None):
        tokens = x_shape[2]
        if x_mark_shape is not None:
            tokens = None if tokens is None or x_mark_shape[2] is None else tokens + x_mark_shape[2]
        return (x_shape[0], tokens, self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(seq_len=self.seq_len, d_model=self.d_model, dropout=self.dropout_rate, seed=self.seed)
        return config
