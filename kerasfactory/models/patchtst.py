"""PatchTST: channel-independent attention over patches of each variate."""

import keras

from kerasfactory.layers import PatchEmbedding, validation
from kerasfactory.models import common
from kerasfactory.models.encoder import encoder_blocks

DEFAULTS = {
    "d_model": 32,
    "n_heads": 4,
    "n_layers": 2,
    "d_ff": 64,
    "dropout": 0.1,
    "activation": "gelu",
    "patch_len": 16,
    "stride": 8,
    "head_dropout": 0.0,
}


def build_patchtst(*, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
                   **hparams):
    """PatchTST: every variate is cut into patches that attend to each other.

    `x_norm, stats = RevIN(x)`;
    `h = PatchEmbedding(d_model, patch_len, stride)(x_norm)`,
    `(batch, n_vars, patches, d_model)`; the encoder attends over the patch
    axis only (the same weights for every variate: channel independence);
    `y = Dense(pred_len)(flatten(h))` per variate; `denorm(y, stats)`.
    The marks are accepted (a common API) and unused.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: number of mark columns (unused).
        freq: unused; accepted for a common API.
        target_index: `None` for all variates out, or the one to forecast.
        seed: seeds every dropout mask (`None`: unseeded).
        **hparams: `d_model` (32), `n_heads` (4), `n_layers` (2),
            `d_ff` (64), `dropout` (0.1), `activation` ("gelu"),
            `patch_len` (16), `stride` (8), `head_dropout` (0.0).

    Returns:
        An uncompiled `keras.Model` on `[x, x_mark]`.

    Example:
    >>> model = build_patchtst(seq_len=48, pred_len=24, n_vars=3, mark_dim=4)
    >>> model.output.shape
    (None, 24, 3)

    Reference: Nie et al., "A Time Series is Worth 64 Words: Long-term
    Forecasting with Transformers", ICLR 2023.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    hp = common.hparams("patchtst", hparams, DEFAULTS)
    seeds = common.seeds(seed)
    x, x_mark = common.inputs(seq_len, n_vars, mark_dim)
    revin, x_norm, stats = common.normalise(x, n_vars)
    embedding = PatchEmbedding(
        hp["d_model"],
        patch_len=hp["patch_len"],
        stride=hp["stride"],
        dropout=hp["dropout"],
        seed=next(seeds),
        name="embedding",
    )
    h = embedding(x_norm)
    h = encoder_blocks(
        h,
        n_layers=hp["n_layers"],
        n_heads=hp["n_heads"],
        d_ff=hp["d_ff"],
        dropout=hp["dropout"],
        activation=hp["activation"],
        seeds=seeds,
        attention_axes=(2,),
    )
    h = keras.layers.Reshape((n_vars, embedding.num_patches(seq_len) * hp["d_model"]), name="flatten")(h)
    h = keras.layers.Dropout(
        validation.probability("head_dropout", hp["head_dropout"]), seed=next(seeds), name="head_dropout"
    )(h)
    y = keras.layers.Dense(pred_len, name="head")(h)
    y = common.output(y, revin, stats, target_index)
    return keras.Model([x, x_mark], y, name="patchtst")
