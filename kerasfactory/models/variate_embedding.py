"""Channel-independent value + calendar embedding: every variate's series embedded on its own."""

import keras
from keras import ops

from kerasfactory.layers import DataEmbeddingWithoutPosition, validation

# Which sample's marks each variate of a batch reads (see `VariateEmbedding`).
MARK_ORDERS = ("per_sample", "tslib")


@keras.saving.register_keras_serializable(package="kerasfactory")
class VariateEmbedding(validation.Layer):
    """`DataEmbeddingWithoutPosition(c_in=1)` applied to each variate of a series alone.

    `y[b, n] = dropout(TokenEmbedding(x[b, :, n:n+1]) + TimeFeatureEmbedding(x_mark[b]))`:
    one circular, bias-free kernel-3 convolution from 1 channel to `d_model`
    shared by all variates, plus the timeF embedding of sample `b`'s marks
    (with `mark_order="per_sample"`, the default).
    Time-Series-Library TimeMixer's `enc_embedding` with
    `channel_independence=1`, which reshapes `x` to `(batch * n_vars, time, 1)`
    (variate-minor rows) and embeds it with `DataEmbedding_wo_pos(1, d_model)`.
    That code tiles the marks with `x_mark.repeat(N, 1, 1)`, variate-major,
    so row `b * N + n` reads sample `(b * N + n) % batch`'s marks: with a batch
    of more than one sample, a variate may read another sample's marks, and a
    sample's forecast depends on the rest of its batch. `mark_order="tslib"`
    copies that tiling (`y[b, n]` reads `x_mark[(b * N + n) % batch]`), so a
    Time-Series-Library checkpoint predicts whole batches as there. The two
    orders agree when the batch is 1 or its samples share their marks.

    Args:
        d_model: embedding size.
        freq: frequency of the timeF marks.
        dropout: dropout rate on the sum. Defaults to 0.1.
        seed: optional seed of the dropout mask.
        extra_columns: mark columns after the timeF ones. Defaults to 0.
        mark_order: `"per_sample"` (default: every variate reads its own
            sample's marks) or `"tslib"` (Time-Series-Library's batch-dependent
            tiling, for its checkpoints).

    Sub-layer: `embedding`, the `DataEmbeddingWithoutPosition` (with
    `value_embedding.conv` and `temporal_embedding.embed`).

    Input shapes: `x` `(batch, time, n_vars)`, `x_mark` `(batch, time, marks)`.
    Output shape: `(batch, n_vars, time, d_model)`.

    Example:
    >>> layer = VariateEmbedding(d_model=8)
    >>> layer(keras.random.normal((2, 16, 3)), keras.random.normal((2, 16, 4))).shape
    (2, 3, 16, 8)
    """

    def __init__(self, d_model, freq="h", dropout=0.1, seed=None, extra_columns=0, mark_order="per_sample",
                 **kwargs):
        super().__init__(**kwargs)
        self.mark_order = validation.one_of("mark_order", mark_order, MARK_ORDERS)
        self.embedding = DataEmbeddingWithoutPosition(
            1, d_model, embed_type="timeF", freq=freq, dropout=dropout, seed=seed, extra_columns=extra_columns,
            padding="circular", use_bias=False, dtype=self.dtype_policy, name="embedding",
        )

    def build(self, x_shape, x_mark_shape):
        validation.input_shape("x", x_shape, 3)
        self.embedding.build((None, x_shape[1], 1), (None, x_shape[1], x_mark_shape[-1]))

    def call(self, x, x_mark, training=None):
        _, time, n_vars = x.shape
        series = ops.reshape(ops.transpose(ops.cast(x, self.compute_dtype), (0, 2, 1)), (-1, time, 1))
        marks = ops.cast(x_mark, self.compute_dtype)
        if self.mark_order == "per_sample":
            marks = ops.repeat(marks, n_vars, axis=0)  # row b * n_vars + n: sample b
        else:
            marks = ops.tile(marks, (n_vars, 1, 1))  # row b * n_vars + n: sample (b * n_vars + n) % batch
        out = self.embedding(series, marks, training=training)
        return ops.reshape(out, (-1, n_vars, time, self.embedding.d_model))

    def compute_output_shape(self, x_shape, x_mark_shape):
        return (x_shape[0], x_shape[2], x_shape[1], self.embedding.d_model)

    def get_config(self):
        config = super().get_config()
        inner = self.embedding.get_config()
        config.update({k: inner[k] for k in ("d_model", "freq", "dropout", "seed", "extra_columns")})
        if self.mark_order != "per_sample":  # absent by default, so earlier saved models' configs are unchanged
            config["mark_order"] = self.mark_order
        return config
