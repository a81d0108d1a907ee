"""Closed-form fits of the linear forecasters: `fit_least_squares` and `has_closed_form`.

>>> from kerasfactory.models import build_model
>>> has_closed_form("dlinear"), has_closed_form(build_model("rlinear", seq_len=8, pred_len=2, n_vars=1, mark_dim=4))
(True, True)
>>> has_closed_form("patchtst")
False
"""

import keras

from kerasfactory.models import ridge
from kerasfactory.models.dlinear import fit_dlinear
from kerasfactory.models.linear import fit_cyclelinear
from kerasfactory.models.rlinear import fit_rlinear

# keras.Model.name -> its fit; the builders name their models so.
FITS = {"cyclelinear": fit_cyclelinear, "rlinear": fit_rlinear, "dlinear": fit_dlinear}
_MODEL_NAMES = {"linear": "cyclelinear"}  # `MODELS` key -> model name, where they differ


def has_closed_form(model_or_name):
    """Whether `fit_least_squares` fits this model: a built `keras.Model`, or a name of `MODELS` (or a model's)."""
    name = model_or_name.name if isinstance(model_or_name, keras.Model) else model_or_name
    return _MODEL_NAMES.get(name, name) in FITS


def fit_least_squares(model, train, val=None, alphas=ridge.ALPHAS):
    """Sets a linear forecaster's weights in closed form; returns `{"alpha", "val_mse"}`.

    For CycleLinear ("linear", with or without `revin`), RLinear and
    DLinear, each linear in its inputs once the cycle, the RevIN statistics
    or the decomposition are fixed: the weights become the ridge solution
    (`alpha ||W||^2`, the bias and future weights `V` unpenalised) over the
    training windows, all variates pooled, for the `alpha` of `alphas` with
    the lowest validation MSE (the first one without `val`). Models with
    RevIN are fitted on each window's input and target scaled by the input's
    statistics, their affine scale and shift set to ones and zeros.

    Args:
        model: a model built by `build_linear`, `build_rlinear` or
            `build_dlinear` (see `has_closed_form`).
        train, val: `(inputs, y)` numpy windows, `inputs` the model's inputs
            in its order (`(x, x_mark)`, then `y_mark`, `x_future`,
            `future_mask` as built), `y` what the model outputs (every
            variate, or the target alone for a model built with `target_index`).
        alphas: the ridge penalties to try.

    Returns:
        `{"alpha": the one chosen, "val_mse": its validation MSE in the data's units, None without val}`.

    Example:
    >>> import numpy as np
    >>> from kerasfactory.models import build_model
    >>> model = build_model("rlinear", seq_len=8, pred_len=2, n_vars=1, mark_dim=4)
    >>> x = np.sin(np.arange(400) / 3.0)[:, None]
    >>> windows = np.arange(380)[:, None] + np.arange(10)
    >>> fit_least_squares(model, ((x[windows[:, :8]], np.zeros((380, 8, 4))), x[windows[:, 8:]]))["alpha"]
    0.0

    Reference: the models' papers (`build_linear`, `build_rlinear`, `build_dlinear`).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a built keras.Model, got {type(model).__name__}")
    if not has_closed_form(model):
        raise ValueError(
            f"`model` must be one with a closed form ({', '.join(sorted(FITS))}), got {getattr(model, 'name', model)!r}"
        )
    return FITS[model.name](model, train, val, alphas)
