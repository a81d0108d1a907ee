"""Forecasters built from `kerasfactory.layers` and Keras built-in layers.

>>> model = build_model("itransformer", seq_len=96, pred_len=24, n_vars=7, mark_dim=4, freq="h")
>>> model.output.shape
(None, 24, 7)
"""

import keras

from kerasfactory.layers import validation
from kerasfactory.models.itransformer import build_itransformer
from kerasfactory.models.linear import build_linear, fit_least_squares
from kerasfactory.models.patchtst import build_patchtst
from kerasfactory.models.transformer import build_transformer

MODELS = {
    "transformer": build_transformer,
    "itransformer": build_itransformer,
    "patchtst": build_patchtst,
    "linear": build_linear,
}


def build_model(name, *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None, **hparams):
    """Builds the forecaster `name` (a key of `MODELS`), uncompiled.

    Inputs `[x (batch, seq_len, n_vars), x_mark (batch, seq_len, mark_dim)]`;
    output `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` for the
    variate `target_index` alone (features "MS"). `seed`, when given, seeds
    Keras' global random state (`keras.utils.set_random_seed`) before the
    weights are created and seeds every dropout mask, so the same call gives
    the same initial model and the same training on a backend.
    `hparams` override the model's defaults (see each `build_*`); an unknown
    name is a `TypeError`.
    """
    validation.one_of("name", name, tuple(MODELS))
    seed = validation.seed("seed", seed)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return MODELS[name](
        seq_len=seq_len,
        pred_len=pred_len,
        n_vars=n_vars,
        mark_dim=mark_dim,
        freq=freq,
        target_index=target_index,
        seed=seed,
        **hparams,
    )


__all__ = [
    "MODELS", "build_model", "build_itransformer", "build_linear", "build_patchtst", "build_transformer",
    "fit_least_squares",
]
