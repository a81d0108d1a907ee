"""RLinear: RevIN, then one linear map over time shared by every variate.

`y[:, c] = RevIN^-1(W^T RevIN(x)[:, c] + b [+ (u V)[:, c]])`

for each variate `c`: RevIN (the layer `revin`) normalises each window's
variates over time, `W` `(seq_len, pred_len)` and `b` (the `Dense` layer
`linear`) map the normalised past to the normalised forecast, the same for
every variate (channel independence), and RevIN's inverse takes it back to
the data's units. Train it with `fit`, or in closed form with
`kerasfactory.models.fit_least_squares`.

Reference: Li et al., "Revisiting Long-term Time Series Forecasting: An
Investigation on Linear Mapping", 2023 (arXiv:2305.10721).
"""

import keras
import numpy as np

from kerasfactory.models import common, ridge


def build_rlinear(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    revin_affine=True,
):
    """RLinear: RevIN plus one linear map over time shared by the variates (see the module docstring).

    `y[:, c] = RevIN^-1(W^T RevIN(x)[:, c] + b [+ (u V)[:, c]])`.
    Future inputs: `u` `(pred_len, k)` holds each forecast step's columns,
    `y_mark` then `x_future` (with a mask: `[where(mask > 0, x_future, 0), mask]`),
    and `V` (the `Dense(n_vars, use_bias=False)` layer `future_linear`, zeros
    at first) weighs them for each variate. The term is added in normalised
    units, before RevIN's inverse, so a covariate's effect scales with each
    window's spread, as the rest of the forecast does.

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: width of the marks (`x_mark` is not read; `y_mark` is, as future columns).
        freq: unused here; accepted for a common API.
        target_index: `None` for all variates out, or the one to forecast.
        seed: unused (no dropout); accepted for a common API.
        future_marks: take the forecast steps' marks `y_mark`.
        future_dim: number of future-known covariates `x_future` (0: none).
        future_mask: take a `future_mask` over `x_future` (needs `future_dim > 0`).
        revin_affine: learn RevIN's per-variate scale and shift (the paper's
            RevIN); False: plain instance normalisation.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_rlinear(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, future_dim=1)
    >>> model.get_layer("linear").kernel.shape, model.output.shape
    ((48, 24), (None, 24, 3))

    Reference: Li et al., "Revisiting Long-term Time Series Forecasting: An
    Investigation on Linear Mapping", 2023.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    revin, x_norm, stats = common.normalise(inputs.x, n_vars, affine=revin_affine)
    z = keras.layers.Permute((2, 1), name="to_vars_major")(x_norm)
    y = keras.layers.Dense(pred_len, name="linear")(z)  # (batch, n_vars, pred_len)
    future = common.future_steps(inputs)
    if future is not None:
        f = keras.layers.Dense(n_vars, use_bias=False, kernel_initializer="zeros", name="future_linear")(future)
        y = keras.layers.Add(name="future_add")([y, keras.layers.Permute((2, 1), name="future_to_vars_major")(f)])
    return keras.Model(inputs.all, common.output(y, revin, stats, target_index), name="rlinear")


DEFAULTS = common.hyperparameters(build_rlinear)


def fit_rlinear(model, train, val=None, alphas=ridge.ALPHAS):
    """Sets an RLinear model's weights in closed form; returns `{"alpha", "val_mse"}`.

    Each window's input and target are scaled by the input's RevIN
    statistics (per variate); `W`, `b` (and `V`) become the ridge solution
    from the normalised inputs to the normalised targets, all variates
    pooled (see `kerasfactory.models.ridge`); RevIN's affine scale and shift
    become ones and zeros.
    """
    revin, linear = model.get_layer("revin"), model.get_layer("linear")
    future_linear, target_index = ridge.layer(model, "future_linear"), ridge.target_index(model)

    def design(split, argument):
        given, y = ridge.split_arrays(model, split, argument)
        x = np.asarray(given["x"], "float64")
        if target_index is not None:
            x = x[..., target_index : target_index + 1]
        mean, scale = ridge.instance_stats(x, revin.eps)
        a, b = ((x - mean) / scale).transpose(0, 2, 1), ((y - mean) / scale).transpose(0, 2, 1)
        return ridge.Design(a, b, ridge.future_columns(given, marks=True), scale.transpose(0, 2, 1))

    alpha, (w, bias, v), val_mse = ridge.fit(
        design(train, "train"), None if val is None else design(val, "val"), alphas
    )
    linear.kernel.assign(w.astype("float32"))
    linear.bias.assign(bias.astype("float32"))
    if revin.affine:
        revin.affine_weight.assign(np.ones(revin.num_features, "float32"))
        revin.affine_bias.assign(np.zeros(revin.num_features, "float32"))
    if future_linear is not None:
        columns = slice(None) if target_index is None else slice(target_index, target_index + 1)
        kernel = np.zeros((v.shape[1], revin.num_features))
        kernel[:, columns] = v.T
        future_linear.kernel.assign(kernel.astype("float32"))
    return {"alpha": alpha, "val_mse": val_mse}
