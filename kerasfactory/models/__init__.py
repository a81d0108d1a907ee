"""Forecasters built from `kerasfactory.layers` and Keras built-in layers.

>>> model = build_model("itransformer", seq_len=96, pred_len=24, n_vars=7, mark_dim=4, freq="h")
>>> model.output.shape
(None, 24, 7)
"""

import keras

from kerasfactory.layers import validation
from kerasfactory.models import common, torch_init
from kerasfactory.models.seeding import set_random_seed
from kerasfactory.models.itransformer import build_itransformer
from kerasfactory.models.closed_form import fit_least_squares, has_closed_form
from kerasfactory.models.compiling import compile_model, compile_options
from kerasfactory.models.dlinear import build_dlinear
from kerasfactory.models.encoder_decoder import build_encoder_decoder_transformer
from kerasfactory.models.linear import build_linear
from kerasfactory.models.patchtst import build_patchtst
from kerasfactory.models.quantile_head import QuantileHead, model_quantiles, with_quantiles
from kerasfactory.models.rlinear import build_rlinear
from kerasfactory.models.timemixer import build_timemixer
from kerasfactory.models.transformer import build_transformer

MODELS = {
    "transformer": build_transformer,
    "itransformer": build_itransformer,
    "patchtst": build_patchtst,
    "linear": build_linear,
    "rlinear": build_rlinear,
    "dlinear": build_dlinear,
    "timemixer": build_timemixer,
}


def build_model(
    name, *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False, init="keras", quantiles=None, **hparams,
):
    """Builds the forecaster `name` (a key of `MODELS`), uncompiled (`compile_model` compiles it as
    the `Forecaster` does, with the backend's fast settings).

    Inputs, in order: `x` `(batch, seq_len, n_vars)`, `x_mark`
    `(batch, seq_len, mark_dim)`, then `y_mark` `(batch, pred_len, mark_dim)`
    (the forecast steps' marks) with `future_marks=True`, `x_future`
    `(batch, pred_len, future_dim)` (covariates known ahead) with
    `future_dim > 0`, and `future_mask` `(batch, pred_len, future_dim)`
    (1 = known, 0 = not) with `future_mask=True`; each model's docstring says
    how they enter. Output `(batch, pred_len, n_vars)`, or
    `(batch, pred_len, 1)` for the variate `target_index` alone (features
    "MS"). `seed`, when given, seeds Keras' global random state
    (as `keras.utils.set_random_seed` does, without loading TensorFlow on
    the other backends) before the weights are created and seeds
    every dropout mask, so the same call gives the same initial model and
    the same training on a backend. `init="torch"` redraws the weights that
    Keras draws Glorot-uniform (Dense kernels, attention projections) and
    their zero biases as PyTorch's `nn.Linear` does, `U(+-1/sqrt(fan_in))`
    (`kerasfactory.models.torch_init`), from `seed`: Time-Series-Library's
    starting point.
    `quantiles` (sorted levels in (0, 1)) wraps the model with
    `with_quantiles`: output `(batch, pred_len, n_out, n_q)`, the point
    forecast as the median, levels that never cross.
    `hparams` are the model's hyperparameters, the keywords of its
    `build_*` (with their defaults there); an unknown name is a `TypeError`
    listing the valid ones.

    Example:
    >>> model = build_model("patchtst", seq_len=96, pred_len=24, n_vars=7, mark_dim=4, future_marks=True,
    ...                     d_model=16)
    >>> tuple(t.name for t in model.inputs)
    ('x', 'x_mark', 'y_mark')
    """
    validation.one_of("name", name, tuple(MODELS))
    validation.one_of("init", init, ("keras", "torch"))
    builder = MODELS[name]
    common.check_hparam_names(name, hparams, builder)
    seed = validation.seed("seed", seed)
    if seed is not None:
        set_random_seed(seed)
    model = builder(
        seq_len=seq_len,
        pred_len=pred_len,
        n_vars=n_vars,
        mark_dim=mark_dim,
        freq=freq,
        target_index=target_index,
        seed=seed,
        future_marks=future_marks,
        future_dim=future_dim,
        future_mask=future_mask,
        **hparams,
    )
    model = torch_init.reinitialise(model, seed) if init == "torch" else model
    return model if quantiles is None else with_quantiles(model, quantiles)


__all__ = [
    "MODELS", "build_model", "build_itransformer", "build_linear", "build_patchtst", "build_timemixer",
    "build_transformer", "build_rlinear", "build_dlinear", "build_encoder_decoder_transformer", "fit_least_squares",
    "has_closed_form", "compile_model", "compile_options", "set_random_seed",
    "QuantileHead", "model_quantiles", "with_quantiles",
]
