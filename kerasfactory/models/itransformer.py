"""iTransformer: attention across variates, each variate's series one token."""

import keras

from kerasfactory.layers import DataEmbeddingInverted
from kerasfactory.models import common
from kerasfactory.models.encoder import encoder_blocks

DEFAULTS = {
    "d_model": 128,
    "n_heads": 4,
    "n_layers": 2,
    "d_ff": 128,
    "dropout": 0.1,
    "activation": "gelu",
    "residual": False,
}


def build_itransformer(*, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
                       **hparams):
    """An inverted Transformer: tokens are variates (and mark columns).

    `x_norm, stats = RevIN(x)`;
    `h = Encoder(DataEmbeddingInverted(seq_len, d_model)(x_norm, x_mark))`,
    `(batch, n_vars + mark_dim, d_model)`: each mark column is one more token;
    `y = Dense(pred_len)(h)` keeping the first `n_vars` tokens
    `[+ Dense(pred_len)(x_norm^T)]` with `residual=True`;
    transpose to `(batch, pred_len, n_vars)`; `denorm(y, stats)`.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: number of mark columns (any calendar features).
        freq: unused here (the marks are plain tokens); accepted for a common API.
        target_index: `None` for all variates out, or the one to forecast.
        seed: seeds every dropout mask (`None`: unseeded).
        **hparams: `d_model` (128), `n_heads` (4), `n_layers` (2),
            `d_ff` (128), `dropout` (0.1), `activation` ("gelu"),
            `residual` (False): add a linear map of the normalised input.

    Returns:
        An uncompiled `keras.Model` on `[x, x_mark]`.

    Example:
    >>> model = build_itransformer(seq_len=48, pred_len=24, n_vars=3, mark_dim=4)
    >>> model.output.shape
    (None, 24, 3)

    Reference: Liu et al., "iTransformer: Inverted Transformers Are Effective
    for Time Series Forecasting", ICLR 2024.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    hp = common.hparams("itransformer", hparams, DEFAULTS)
    seeds = common.seeds(seed)
    x, x_mark = common.inputs(seq_len, n_vars, mark_dim)
    revin, x_norm, stats = common.normalise(x, n_vars)
    embedding = DataEmbeddingInverted(
        seq_len, hp["d_model"], dropout=hp["dropout"], seed=next(seeds), name="embedding"
    )
    h = embedding(x_norm, x_mark)
    h = encoder_blocks(
        h,
        n_layers=hp["n_layers"],
        n_heads=hp["n_heads"],
        d_ff=hp["d_ff"],
        dropout=hp["dropout"],
        activation=hp["activation"],
        seeds=seeds,
    )
    y = keras.layers.Dense(pred_len, name="head")(h)
    y = keras.layers.Cropping1D((0, mark_dim), name="variate_tokens")(y)
    if hp["residual"]:
        skip = keras.layers.Permute((2, 1), name="to_variate_major")(x_norm)
        y = keras.layers.Add(name="residual")([y, keras.layers.Dense(pred_len, name="linear")(skip)])
    y = common.output(y, revin, stats, target_index)
    return keras.Model([x, x_mark], y, name="itransformer")
