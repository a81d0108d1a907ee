"""PatchTST: channel-independent attention over patches of each variate."""

import keras

from kerasfactory.layers import PatchEmbedding, validation
from kerasfactory.models import common
from kerasfactory.models.encoder import encoder_blocks


def build_patchtst(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.1, activation="gelu",
    patch_len=16, stride=8, head_dropout=0.0, head_dropout_position="before", final_norm="layer",
    revin_affine=True,
):
    """PatchTST: every variate is cut into patches that attend to each other.

    `x_norm, stats = RevIN(x)`;
    `h = PatchEmbedding(d_model, patch_len, stride)(x_norm)`,
    `(batch, n_vars, patches, d_model)`; the encoder attends over the patch
    axis only (the same weights for every variate: channel independence);
    `y = Dense(pred_len)(flatten(h))` per variate;
    with future inputs, `y += Dense(pred_len)(flatten(u))` for the forecast
    steps' columns `u = [y_mark, x_future (, mask)]` `(batch, pred_len, F)`
    flattened to `pred_len * F` per sample: one linear correction, in RevIN's
    normalised units, added alike to every variate (the head stays shared by
    the variates, channel-independent); with a mask the covariates read
    `where(mask > 0, x_future, 0)` and the mask is part of `u`;
    `denorm(y, stats)`. The past marks `x_mark` are accepted (a common API)
    and unused. Future covariates are not normalised by RevIN.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: number of mark columns (`x_mark` is unused; `y_mark` is read).
        freq: unused; accepted for a common API.
        target_index: `None` for all variates out, or the one to forecast.
        seed: seeds every dropout mask (`None`: unseeded).
        future_marks: take the forecast steps' marks `y_mark`.
        future_dim: number of future-known covariates `x_future` (0: none).
        future_mask: take a `future_mask` over `x_future` (needs `future_dim > 0`).
        d_model: patch token size. Defaults to 32.
        n_heads: attention heads. Defaults to 4.
        n_layers: encoder blocks. Defaults to 2.
        d_ff: feed-forward width. Defaults to 64.
        dropout: dropout rate in the embedding and encoder. Defaults to 0.1.
        activation: of the feed-forward layers. Defaults to "gelu".
        patch_len: steps per patch. Defaults to 16.
        stride: steps between patch starts. Defaults to 8.
        head_dropout: dropout rate of the head. Defaults to 0.0.
        head_dropout_position: "before" the head's Dense (default) or
            "after" it, on the forecast itself (Time-Series-Library's `FlattenHead`).
        final_norm: the encoder's last normalisation, "layer" (default) or
            "batch" (Time-Series-Library's PatchTST).
        revin_affine: RevIN learns a scale and shift per variate. Defaults to
            True; False normalises as Time-Series-Library's PatchTST does.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_patchtst(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, future_dim=2, future_mask=True)
    >>> [t.name for t in model.inputs], model.output.shape
    (['x', 'x_mark', 'x_future', 'future_mask'], (None, 24, 3))

    Reference: Nie et al., "A Time Series is Worth 64 Words: Long-term
    Forecasting with Transformers", ICLR 2023.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    d_model, n_heads, n_layers, d_ff = common.positive_ints(
        d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff
    )
    dropout = validation.probability("dropout", dropout)
    head_dropout = validation.probability("head_dropout", head_dropout)
    after = validation.one_of("head_dropout_position", head_dropout_position, ("before", "after")) == "after"
    activation = common.check_activation(activation)
    seeds = common.seeds(seed)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    revin, x_norm, stats = common.normalise(inputs.x, n_vars, revin_affine)
    embedding = PatchEmbedding(
        d_model, patch_len=patch_len, stride=stride, dropout=dropout, seed=next(seeds), name="embedding"
    )
    h = embedding(x_norm)
    h = encoder_blocks(
        h, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff, dropout=dropout, activation=activation, seeds=seeds,
        attention_axes=(2,), final_norm=final_norm,
    )
    h = keras.layers.Reshape((n_vars, embedding.num_patches(seq_len) * d_model), name="flatten")(h)
    head_drop = keras.layers.Dropout(head_dropout, seed=next(seeds), name="head_dropout")
    y = keras.layers.Dense(pred_len, name="head")(h if after else head_drop(h))  # (batch, n_vars, pred_len)
    y = head_drop(y) if after else y
    future = common.future_steps(inputs)
    if future is not None:
        f = keras.layers.Flatten(name="future_flatten")(future)
        f = keras.layers.Dense(pred_len, name="future_head")(f)
        f = keras.layers.Reshape((1, pred_len), name="future_every_variate")(f)
        y = keras.layers.Add(name="future_add")([y, f])
    y = common.output(y, revin, stats, target_index)
    return keras.Model(inputs.all, y, name="patchtst")


DEFAULTS = common.hyperparameters(build_patchtst)
