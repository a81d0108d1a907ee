"""iTransformer: attention across variates, each variate's series one token."""

import keras

from kerasfactory.layers import DataEmbeddingInverted, validation
from kerasfactory.models import common
from kerasfactory.models.encoder import encoder_blocks


def build_itransformer(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    d_model=128, n_heads=4, n_layers=2, d_ff=128, dropout=0.1, activation="gelu", residual=False,
    revin_affine=True,
):
    """An inverted Transformer: tokens are variates (and mark and future columns).

    `x_norm, stats = RevIN(x)`;
    `p = DataEmbeddingInverted(seq_len, d_model)(x_norm, x_mark)`,
    `(batch, n_vars + mark_dim, d_model)`: each mark column is one more token;
    with future inputs, `f = DataEmbeddingInverted(pred_len, d_model)(u)` for
    the forecast steps' columns `u = [y_mark, x_future (, mask)]`
    `(batch, pred_len, F)`: each future column, a series of `pred_len` steps,
    is one more token, embedded by its own `Dense(pred_len -> d_model)`;
    `h = Encoder([p; f])`, every token attending to every other;
    `y = Dense(pred_len)(h)` keeping the first `n_vars` tokens (the mark and
    future tokens are cropped off) `[+ Dense(pred_len)(x_norm^T)]` with
    `residual=True`; transpose to `(batch, pred_len, n_vars)`; `denorm(y, stats)`.
    With a mask the covariate columns are `where(mask > 0, x_future, 0)` and
    the mask columns are tokens too (`F = mark_dim + 2 future_dim`), so an
    unknown value is never read and is told apart from a known 0.
    Future covariates are not normalised by RevIN.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: number of mark columns (any calendar features).
        freq: unused here (the marks are plain tokens); accepted for a common API.
        target_index: `None` for all variates out, or the one to forecast.
        seed: seeds every dropout mask (`None`: unseeded).
        future_marks: take the forecast steps' marks `y_mark`.
        future_dim: number of future-known covariates `x_future` (0: none).
        future_mask: take a `future_mask` over `x_future` (needs `future_dim > 0`).
        d_model: token size. Defaults to 128.
        n_heads: attention heads. Defaults to 4.
        n_layers: encoder blocks. Defaults to 2.
        d_ff: feed-forward width. Defaults to 128.
        dropout: dropout rate everywhere. Defaults to 0.1.
        activation: of the feed-forward layers. Defaults to "gelu".
        residual: add a linear map of the normalised input. Defaults to False.
        revin_affine: RevIN learns a scale and shift per variate. Defaults to
            True; False normalises as Time-Series-Library's iTransformer does.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_itransformer(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, future_marks=True, future_dim=2)
    >>> [tuple(t.shape) for t in model.inputs], model.output.shape
    ([(None, 48, 3), (None, 48, 4), (None, 24, 4), (None, 24, 2)], (None, 24, 3))

    Reference: Liu et al., "iTransformer: Inverted Transformers Are Effective
    for Time Series Forecasting", ICLR 2024.
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
    seeds = common.seeds(seed)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    revin, x_norm, stats = common.normalise(inputs.x, n_vars, revin_affine)
    embedding = DataEmbeddingInverted(seq_len, d_model, dropout=dropout, seed=next(seeds), name="embedding")
    h = embedding(x_norm, inputs.x_mark)
    extra_tokens = mark_dim
    future = common.future_steps(inputs)
    if future is not None:
        future_embedding = DataEmbeddingInverted(
            pred_len, d_model, dropout=dropout, seed=next(seeds), name="future_embedding"
        )
        h = keras.layers.Concatenate(axis=1, name="tokens")([h, future_embedding(future)])
        extra_tokens += future.shape[-1]
    h = encoder_blocks(
        h, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff, dropout=dropout, activation=activation, seeds=seeds
    )
    y = keras.layers.Dense(pred_len, name="head")(h)
    y = keras.layers.Cropping1D((0, extra_tokens), name="variate_tokens")(y)
    if residual:
        skip = keras.layers.Permute((2, 1), name="to_variate_major")(x_norm)
        y = keras.layers.Add(name="residual")([y, keras.layers.Dense(pred_len, name="linear")(skip)])
    y = common.output(y, revin, stats, target_index)
    return keras.Model(inputs.all, y, name="itransformer")


DEFAULTS = common.hyperparameters(build_itransformer)
