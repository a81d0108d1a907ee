"""DLinear: a moving-average trend and the seasonal rest, each mapped over time by its own linear layer.

`y[:, c] = W_s^T s[:, c] + b_s + W_t^T t[:, c] + b_t [+ (u V)[:, c]]`, `s, t = SeriesDecomposition(moving_avg)(x)`

for each variate `c`: `t` is the series' moving average over `moving_avg`
steps (edges padded with the first and last values) and `s = x - t`;
`W_s`, `b_s` (the `Dense` layer `linear_seasonal`) and `W_t`, `b_t`
(`linear_trend`) map `seq_len` steps to `pred_len`, shared by the variates
or, with `individual`, one pair per variate. Both kernels start at
`1 / seq_len` (the forecast starts as the window's mean), biases at zero.
No normalisation, as in the reference. Train it with `fit`, or in closed
form with `kerasfactory.models.fit_least_squares`.

Reference: Zeng et al., "Are Transformers Effective for Time Series
Forecasting?", AAAI 2023; Time-Series-Library's `models/DLinear.py`.
"""

import keras
import numpy as np

from kerasfactory.layers import SeriesDecomposition, validation
from kerasfactory.models import common, ridge


def build_dlinear(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    moving_avg=25, individual=False,
):
    """DLinear: linear maps of the seasonal and trend parts of the series, summed (see the module docstring).

    `y[:, c] = W_s^T s[:, c] + b_s + W_t^T t[:, c] + b_t [+ (u V)[:, c]]`,
    `s, t = SeriesDecomposition(moving_avg)(x)`.
    Future inputs: `u` `(pred_len, k)` holds each forecast step's columns,
    `y_mark` then `x_future` (with a mask: `[where(mask > 0, x_future, 0), mask]`),
    and `V` (the `Dense(n_vars, use_bias=False)` layer `future_linear`, zeros
    at first) weighs them for each variate, added before the target is picked.

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
        moving_avg: the trend's moving-average width, a positive odd integer.
        individual: one seasonal and one trend map per variate (each an
            `EinsumDense` with kernel `(n_vars, seq_len, pred_len)`) instead of
            one pair shared by all.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_dlinear(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, moving_avg=5)
    >>> model.get_layer("linear_trend").kernel.shape, model.output.shape
    ((48, 24), (None, 24, 3))

    Reference: Zeng et al., "Are Transformers Effective for Time Series
    Forecasting?", AAAI 2023.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    moving_avg = validation.positive_int("moving_avg", moving_avg)
    if moving_avg % 2 == 0:
        raise ValueError(f"`moving_avg` must be a positive odd integer, got {moving_avg!r}")
    individual = validation.flag("individual", individual)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    seasonal, trend = SeriesDecomposition(moving_avg, name="decomposition")(inputs.x)
    start = keras.initializers.Constant(1.0 / seq_len)

    def linear(name):
        if individual:
            return keras.layers.EinsumDense(
                "bcl,clh->bch", (n_vars, pred_len), bias_axes="ch", kernel_initializer=start, name=name
            )
        return keras.layers.Dense(pred_len, kernel_initializer=start, name=name)

    s = linear("linear_seasonal")(keras.layers.Permute((2, 1), name="seasonal_to_vars_major")(seasonal))
    t = linear("linear_trend")(keras.layers.Permute((2, 1), name="trend_to_vars_major")(trend))
    y = keras.layers.Add(name="combine")([s, t])  # (batch, n_vars, pred_len)
    future = common.future_steps(inputs)
    if future is not None:
        f = keras.layers.Dense(n_vars, use_bias=False, kernel_initializer="zeros", name="future_linear")(future)
        y = keras.layers.Add(name="future_add")([y, keras.layers.Permute((2, 1), name="future_to_vars_major")(f)])
    if target_index is not None:
        y = keras.layers.Cropping1D((target_index, n_vars - target_index - 1), name="target")(y)
    return keras.Model(inputs.all, keras.layers.Permute((2, 1), name="to_time_major")(y), name="dlinear")


DEFAULTS = common.hyperparameters(build_dlinear)


def moving_average_matrix(length, kernel_size):
    """`M` `(length, length)` with `trend = M @ x` for a series `x` of `length` steps, as `SeriesDecomposition`."""
    half = (kernel_size - 1) // 2
    matrix = np.zeros((length, length))
    for t in range(length):
        np.add.at(matrix[t], np.clip(np.arange(t, t + kernel_size) - half, 0, length - 1), 1.0 / kernel_size)
    return matrix


def fit_dlinear(model, train, val=None, alphas=ridge.ALPHAS):
    """Sets a DLinear model's weights in closed form; returns `{"alpha", "val_mse"}`.

    The model is linear in `x`: its features are `[s, t] = x [(I - M)^T, M^T]`
    (`M` the moving average), `2 seq_len` columns of rank `seq_len`. The ridge
    solution on them (`alpha (||W_s||^2 + ||W_t||^2)`, the minimum-norm one
    at `alpha = 0`) is found on their `seq_len` principal directions, then
    split into `linear_seasonal`'s and `linear_trend`'s kernels; the bias
    goes to `linear_seasonal`, `linear_trend`'s is zero. With `individual`,
    each variate is solved alone (one `alpha` for all).
    """
    seasonal, trend = model.get_layer("linear_seasonal"), model.get_layer("linear_trend")
    future_linear, target_index = ridge.layer(model, "future_linear"), ridge.target_index(model)
    L, n_vars = model.inputs[0].shape[1:]
    M = moving_average_matrix(L, model.get_layer("decomposition").kernel_size)
    u_mat, s_vals, vt = np.linalg.svd(np.concatenate([(np.eye(L) - M).T, M.T], axis=1), full_matrices=False)
    to_features = u_mat * s_vals  # x @ to_features: [s, t] on the principal directions (L, L)

    def design(split, argument):
        given, y = ridge.split_arrays(model, split, argument)
        x = np.asarray(given["x"], "float64")
        if target_index is not None:
            x = x[..., target_index : target_index + 1]
        a = np.einsum("nlc,lf->ncf", x, to_features)
        return ridge.Design(a, y.transpose(0, 2, 1), ridge.future_columns(given, marks=True))

    individual = seasonal.kernel.ndim == 3
    alpha, (w, bias, v), val_mse = ridge.fit(
        design(train, "train"), None if val is None else design(val, "val"), alphas, individual=individual
    )
    w = np.einsum("fl,...lh->...fh", vt.T, w)  # (..., 2 L, H): [W_s; W_t]
    columns = slice(None) if target_index is None else slice(target_index, target_index + 1)
    if individual:
        for layer, kernel, layer_bias in ((seasonal, w[:, :L], bias), (trend, w[:, L:], np.zeros_like(bias))):
            full_kernel, full_bias = keras.ops.convert_to_numpy(layer.kernel), keras.ops.convert_to_numpy(layer.bias)
            full_kernel[columns], full_bias[columns] = kernel, layer_bias
            layer.kernel.assign(full_kernel.astype("float32"))
            layer.bias.assign(full_bias.astype("float32"))
    else:
        seasonal.kernel.assign(w[:L].astype("float32"))
        seasonal.bias.assign(bias.astype("float32"))
        trend.kernel.assign(w[L:].astype("float32"))
        trend.bias.assign(np.zeros_like(bias, "float32"))
    if future_linear is not None:
        kernel = np.zeros((v.shape[1], n_vars))
        kernel[:, columns] = v.T
        future_linear.kernel.assign(kernel.astype("float32"))
    return {"alpha": alpha, "val_mse": val_mse}
