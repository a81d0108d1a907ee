"""An encoder Transformer over time tokens (the vanilla forecaster of the literature)."""

import keras
from keras import ops

from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from kerasfactory.layers import DataEmbedding, PositionalEmbedding, validation
from kerasfactory.models import common
from kerasfactory.models.encoder import cross_attention_block, encoder_blocks


@keras.saving.register_keras_serializable(package="kerasfactory")
class StepPositions(validation.Layer):
    """Adds the sinusoidal positions of steps that come `offset` steps after the first one.

    `y = q + PE[offset : offset + time]`, `PE` the table of `PositionalEmbedding`
    (the rows the input window's embedding did not use, for queries that
    follow the window).

    Args:
        offset: the position of the first step of `q`.

    Input shape: `(batch, time, d_model)`. Output shape: the same.

    Example:
    >>> StepPositions(96)(keras.ops.zeros((2, 24, 8))).shape
    (2, 24, 8)

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    """

    def __init__(self, offset, **kwargs):
        super().__init__(**kwargs)
        self.offset = validation.positive_int("offset", offset)

    def build(self, q_shape):
        validation.input_shape("q", q_shape, 3)
        if q_shape[1] is None:
            raise ValueError(f"`q` time length must be known, got shape {tuple(q_shape)}")
        self.position = PositionalEmbedding(
            self.offset + q_shape[1], d_model=q_shape[-1], dtype=self.dtype_policy, name="table"
        )

    def call(self, q):
        time = q.shape[1]
        rows = self.position(ops.zeros((1, self.offset + time, 1)))  # reads the time length only
        return ops.add(q, ops.cast(rows[:, self.offset :], q.dtype))

    def compute_output_shape(self, q_shape):
        return tuple(q_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"offset": self.offset})
        return config


def _extra_mark_columns(mark_dim, freq):
    """`{"extra_columns": n}` for marks `n > 0` columns wider than timeF's, `{}` for exactly timeF's."""
    width = FREQ_WIDTH[normalize_freq(freq)]
    if mark_dim < width:
        raise ValueError(f"`mark_dim` must be >= {width} (the timeF width of freq={freq!r}), got {mark_dim}")
    # Only when there are some: a model on the standard columns keeps the config of earlier releases.
    return {"extra_columns": mark_dim - width} if mark_dim > width else {}


def build_transformer(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    d_model=64, n_heads=4, n_layers=2, d_ff=128, dropout=0.1, activation="gelu", residual=True,
):
    """An encoder Transformer whose tokens are the time steps, with forecast-step queries for future inputs.

    `x_norm, stats = RevIN(x)`;
    `h = Encoder(DataEmbedding(x_norm, x_mark))` (value + position + timeF
    calendar, `(batch, seq_len, d_model)`);
    `z = Dense(n_vars)(h) [+ x_norm]` back to the variates;
    `y = Dense(pred_len)` over time, per variate.
    With future inputs, one decoder query per forecast step,
    `q = Dropout(Dense(d_model)(u) + PE[seq_len : seq_len + pred_len])` from
    the steps' columns `u = [y_mark, x_future (, mask)]` `(batch, pred_len, F)`
    and their positions after the input window; one cross-attention block
    (`q` attends to `h`, post-norm, feed-forward), then `Dense(n_vars)` per
    step is added to `y`. With a mask the covariates read
    `where(mask > 0, x_future, 0)` and the mask is part of `u`.
    Last, `denorm(y, stats)`. Without future inputs the model is exactly
    the one without the query path. With `residual=True` (default) the
    normalised input skips the encoder, so the head starts as a linear
    forecaster on RevIN'd values (RLinear, Li et al., 2023) and the encoder
    learns a correction. Future covariates are not normalised by RevIN.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: timeF mark columns: `FREQ_WIDTH[freq]`, or more when extra
            columns (holidays, events) follow the standard ones; the extra
            ones go to `DataEmbedding(extra_columns=...)`.
        freq: frequency code or pandas alias of the marks.
        target_index: `None` for all variates out ("M"), or the variate
            to forecast alone ("MS"): output `(batch, pred_len, 1)`.
        seed: seeds every dropout mask (`None`: unseeded).
        future_marks: take the forecast steps' marks `y_mark`.
        future_dim: number of future-known covariates `x_future` (0: none).
        future_mask: take a `future_mask` over `x_future` (needs `future_dim > 0`).
        d_model: token size. Defaults to 64.
        n_heads: attention heads. Defaults to 4.
        n_layers: encoder blocks. Defaults to 2.
        d_ff: feed-forward width. Defaults to 128.
        dropout: dropout rate everywhere. Defaults to 0.1.
        activation: of the feed-forward layers. Defaults to "gelu".
        residual: add `x_norm` to the encoder's projection. Defaults to True.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_transformer(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, freq="h", future_marks=True)
    >>> [t.name for t in model.inputs], model.output.shape
    (['x', 'x_mark', 'y_mark'], (None, 24, 3))

    Reference: Vaswani et al., NeurIPS 2017; Zhou et al., "Informer", AAAI
    2021 (the embedding); Kim et al., "RevIN", ICLR 2022.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    d_model, n_heads, n_layers, d_ff = common.positive_ints(
        d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff
    )
    dropout = validation.probability("dropout", dropout)
    activation = common.check_activation(activation)
    residual = validation.flag("residual", residual)
    extra = _extra_mark_columns(mark_dim, freq)
    seeds = common.seeds(seed)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    revin, x_norm, stats = common.normalise(inputs.x, n_vars)
    embedding = DataEmbedding(
        n_vars, d_model, embed_type="timeF", freq=freq, dropout=dropout, seed=next(seeds), name="embedding", **extra
    )
    h = embedding(x_norm, inputs.x_mark)
    h = encoder_blocks(
        h, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff, dropout=dropout, activation=activation, seeds=seeds
    )
    z = keras.layers.Dense(n_vars, name="projection")(h)
    if residual:
        z = keras.layers.Add(name="residual")([z, x_norm])
    z = keras.layers.Permute((2, 1), name="to_variate_major")(z)
    y = keras.layers.Dense(pred_len, name="head")(z)  # (batch, n_vars, pred_len)
    future = common.future_steps(inputs)
    if future is not None:
        q = keras.layers.Dense(d_model, name="future_query")(future)
        q = StepPositions(seq_len, name="future_position")(q)
        q = keras.layers.Dropout(dropout, seed=next(seeds), name="future_query_drop")(q)
        q = cross_attention_block(
            q, h, n_heads=n_heads, d_ff=d_ff, dropout=dropout, activation=activation, seeds=seeds, name="decoder"
        )
        f = keras.layers.Dense(n_vars, name="future_projection")(q)  # (batch, pred_len, n_vars)
        f = keras.layers.Permute((2, 1), name="future_to_variate_major")(f)
        y = keras.layers.Add(name="future_add")([y, f])
    y = common.output(y, revin, stats, target_index)
    return keras.Model(inputs.all, y, name="transformer")


DEFAULTS = common.hyperparameters(build_transformer)
