"""Prediction intervals for `kerasfactory.Forecaster(..., quantiles=...)`: wrapping, calibration, scoring.

Design: the point model is fitted and chosen exactly as without quantiles
(pinned, closed form, or `model="auto"`'s choice on validation MSE); only
then is it wrapped with `kerasfactory.models.with_quantiles`. The head's
offsets stay at their initialisation, a normal distribution around the point
forecast with the input window's standard deviation (`Phi^-1(q) * s`), so no
extra training happens. With `calibrate` (the default), split-conformal
calibration (`kerasfactory.forecast.calibration.fit_conformal`) on the
validation windows then widens or narrows each central interval per horizon
step and output variate; the adjustment is stored with the forecaster and
applied to every quantile forecast (`apply_conformal`), which never moves the
median and never lets levels cross. The point forecast reported everywhere is
the point model's own output (the head's centre), so every point metric is
the same as without quantiles.

Baselines get intervals from their validation residuals
(`residual_quantiles`): their point forecast plus, per step, the empirical
quantiles of `y - forecast` over the validation windows.

Scores (`score`) are on the target column in scaled units: `pinball`,
`crps`, `coverage` (nominal level string -> empirical coverage over the
whole split), `coverage_per_step`, `mean_width` and `mean_width_per_step`.
"""

import numpy as np

from kerasfactory.forecast import calibration
from kerasfactory.quantiles import central_pairs, check_quantiles


def check(quantiles, error):
    """`quantiles` checked (a tuple of floats, or None); a bad value raises `error` with the message."""
    if quantiles is None:
        return None
    try:
        return check_quantiles(quantiles)
    except (TypeError, ValueError) as err:
        raise error(f"{err}.") from err


def column_name(column, q):
    """`load_q0.1`: the output column of level `q` of `column`."""
    return f"{column}_q{q:g}"


def wrap(model, quantiles, target_index=None):
    """The point `model` wrapped with a `QuantileHead` at its initial (normal) offsets."""
    from kerasfactory.models import with_quantiles

    n_out = model.output.shape[-1]
    n_vars = next((t for t in model.inputs if t.name == "x"), model.inputs[0]).shape[-1]
    return with_quantiles(model, quantiles, target_index=None if n_out == n_vars else target_index)


def with_point(model):
    """A model with the same inputs and weights as the wrapped `model` and two outputs: the point
    forecast the head spreads from, and the quantiles."""
    import keras

    from kerasfactory.models import QuantileHead

    head = next(layer for layer in model.layers if isinstance(layer, QuantileHead))
    point = head.input[0] if isinstance(head.input, (list, tuple)) else head.input
    return keras.Model(model.inputs, [point, model.output], name=f"{model.name}_with_point")


def predict_both(model, inputs, adjustment, n=None, **kwargs):
    """`(point, quantiles)` of the wrapped `model` on `inputs` (a dataset or arrays), the quantiles
    calibrated with `adjustment` (when not None); the first `n` windows when `n` is given."""
    point, pred_q = with_point(model).predict(inputs, verbose=0, **kwargs)
    point, pred_q = np.asarray(point)[:n], np.asarray(pred_q, "float64")[:n]
    if adjustment is not None:
        pred_q = calibration.apply_conformal(pred_q, adjustment)
    return point, pred_q


def unpaired(quantiles):
    """The levels of `quantiles` other than 0.5 without their mirror `1 - q` (calibration leaves them alone)."""
    paired = {i for pair in central_pairs(quantiles) for i in pair}
    return tuple(q for i, q in enumerate(quantiles) if i not in paired and q != 0.5)


def calibrate(model, val_arrays, quantiles):
    """`fit_conformal`'s adjustment of `model`'s quantiles on the validation windows; `None` when
    `quantiles` hold no central pair `(q, 1 - q)` (nothing to calibrate)."""
    if not central_pairs(quantiles):
        return None
    inputs, y = val_arrays
    _, pred_q = predict_both(model, list(inputs), None, n=len(y), batch_size=256)
    return calibration.fit_conformal(pred_q, y, quantiles)


def score(pred_q, y, quantiles, t):
    """Interval scores of `pred_q` `(windows, pred_len, n_out, n_q)` against `y` on output column `t`."""
    q, yt = np.asarray(pred_q, "float64")[:, :, t:t + 1], np.asarray(y, "float64")[:, :, t:t + 1]
    return {
        "pinball": calibration.pinball_loss(q, yt, quantiles),
        "crps": calibration.crps(q, yt, quantiles),
        "coverage": calibration.coverage(q, yt, quantiles),
        "coverage_per_step": calibration.coverage(q, yt, quantiles, per_step=True),
        "mean_width": calibration.mean_width(q, quantiles),
        "mean_width_per_step": calibration.mean_width(q, quantiles, per_step=True),
    }


def baseline_quantiles(val_pred, val_y, test_pred, quantiles):
    """A baseline's test quantile forecasts from its validation residuals (None when it has no forecast)."""
    if val_pred is None or test_pred is None:
        return None
    offsets = calibration.residual_quantiles(val_pred, val_y, quantiles)
    return calibration.add_residual_quantiles(test_pred, offsets)


def metrics_entry(scores):
    """What metrics.json keeps per row: `pinball`, `crps`, `coverage`, and `intervals` (per step)."""
    return {
        "pinball": scores["pinball"], "crps": scores["crps"], "coverage": scores["coverage"],
        "intervals": {k: scores[k] for k in ("coverage_per_step", "mean_width", "mean_width_per_step")},
    }


__all__ = ["check", "column_name", "wrap", "with_point", "predict_both", "calibrate", "score",
           "baseline_quantiles", "metrics_entry"]
