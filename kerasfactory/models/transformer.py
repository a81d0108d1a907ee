"""An encoder Transformer over time tokens (the vanilla forecaster of the literature)."""

import keras

from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from kerasfactory.layers import DataEmbedding
from kerasfactory.models import common
from kerasfactory.models.encoder import encoder_blocks

DEFAULTS = {
    "d_model": 64,
    "n_heads": 4,
    "n_layers": 2,
    "d_ff": 128,
    "dropout": 0.1,
    "activation": "gelu",
    "residual": True,
}


def build_transformer(*, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
                      **hparams):
    """An encoder-only Transformer whose tokens are the time steps.

    `x_norm, stats = RevIN(x)`;
    `h = Encoder(DataEmbedding(x_norm, x_mark))` (value + position + timeF
    calendar, `(batch, seq_len, d_model)`);
    `z = Dense(n_vars)(h) [+ x_norm]` back to the variates;
    `y = Dense(pred_len)` over time, per variate; `denorm(y, stats)`.
    With `residual=True` (default) the normalised input skips the encoder,
    so the head starts as a linear forecaster on RevIN'd values (RLinear,
    Li et al., 2023) and the encoder learns a correction.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: timeF mark columns; must equal `FREQ_WIDTH[freq]`.
        freq: frequency code or pandas alias of the marks.
        target_index: `None` for all variates out ("M"), or the variate
            to forecast alone ("MS"): output `(batch, pred_len, 1)`.
        seed: seeds every dropout mask (`None`: unseeded).
        **hparams: `d_model` (64), `n_heads` (4), `n_layers` (2),
            `d_ff` (128), `dropout` (0.1), `activation` ("gelu"),
            `residual` (True).

    Returns:
        An uncompiled `keras.Model` on `[x, x_mark]`.

    Example:
    >>> model = build_transformer(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, freq="h")
    >>> model.output.shape
    (None, 24, 3)

    Reference: Vaswani et al., NeurIPS 2017; Zhou et al., "Informer", AAAI
    2021 (the embedding); Kim et al., "RevIN", ICLR 2022.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    hp = common.hparams("transformer", hparams, DEFAULTS)
    width = FREQ_WIDTH[normalize_freq(freq)]
    if mark_dim != width:
        raise ValueError(f"`mark_dim` must equal the timeF width of freq={freq!r} ({width}), got {mark_dim}")
    seeds = common.seeds(seed)
    x, x_mark = common.inputs(seq_len, n_vars, mark_dim)
    revin, x_norm, stats = common.normalise(x, n_vars)
    embedding = DataEmbedding(
        n_vars, hp["d_model"], embed_type="timeF", freq=freq, dropout=hp["dropout"], seed=next(seeds), name="embedding"
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
    z = keras.layers.Dense(n_vars, name="projection")(h)
    if hp["residual"]:
        z = keras.layers.Add(name="residual")([z, x_norm])
    z = keras.layers.Permute((2, 1), name="to_variate_major")(z)
    y = keras.layers.Dense(pred_len, name="head")(z)
    y = common.output(y, revin, stats, target_index)
    return keras.Model([x, x_mark], y, name="transformer")
