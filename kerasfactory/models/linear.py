"""CycleLinear: one linear map over time, applied to the series with its cycle removed.

`y[h, c] = Q[ph(L + h), c] + b[h] + sum_s W[s, h] (x[s, c] - Q[(p + s) % P, c]) [+ sum_j u[h, j] V[j, c]]`

for input steps `s < L` (`seq_len`), horizons `h < H` (`pred_len`), variates
`c`; `p` is the phase of the window's first step within a cycle of `P` steps
(a day for sub-daily data, a week for daily, read off the timeF marks), and
`ph(L + h)` the forecast step's phase: `(p + L + h) % P`, extrapolated from
the window, or read off that step's own marks `y_mark` when the model takes
them (so gaps or irregular steps get their true phase).
`Q` (`P x n_vars`, the layer `cycle`) holds each variate's level at each phase;
`W` and `b` (the `Dense` layer `linear`) are shared by every variate (channel
independence). With future covariates, `u[h]` is step `h`'s row of `x_future`
(with a mask: `[where(mask > 0, x_future, 0), mask]`) and `V` (the `Dense`
layer `future_linear`, no bias, zeros at first) weighs it for each variate.
With `revin=True` (CycleNet's `use_revin`) the formula applies to
`(x - mu) / sigma`, each window's variates by their own mean `mu` and
`sigma = sqrt(var + 1e-5)` (no affine), and its output is `sigma y + mu`.
Train it with `fit` like the other models, or in closed form with
`fit_least_squares` (what `benchmarks/ett.py` does), future term included.

Reference: Lin et al., "CycleNet: Enhancing Time Series Forecasting through
Modeling Periodic Patterns", NeurIPS 2024 (CycleNet/Linear).
"""

import keras
import numpy as np
from keras import ops

from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from kerasfactory.layers import validation
from kerasfactory.models import common, ridge
from kerasfactory.time_features import seasonal_period

# timeF columns (value / max - 0.5) that give the time of day, with their max and seconds per unit.
_TIME_OF_DAY = {
    "h": [(0, 23, 3600)],
    "t": [(0, 59, 60), (1, 23, 3600)],
    "s": [(0, 59, 1), (1, 59, 60), (2, 23, 3600)],
}
_CYCLIC = (*_TIME_OF_DAY, "d", "b")  # codes whose marks give a phase: time of day, day of week


@keras.saving.register_keras_serializable(package="kerasfactory")
class Cycle(validation.Layer):
    """The `(period, n_vars)` table `Q`, looked up over a window's input and forecast steps.

    `call(x_mark)` returns `(Q over the seq_len input steps, Q over the pred_len
    steps after them)`, each `(batch, steps, n_vars)`, the phases counted on
    from the window's first step; `call(x_mark, y_mark)` reads each forecast
    step's phase off its own marks `y_mark` `(batch, pred_len, mark_dim)`
    instead. Only the leading timeF columns are read: extra columns appended
    after them (holidays, events) are ignored.
    """

    def __init__(self, period, n_vars, pred_len, freq="h", **kwargs):
        super().__init__(**kwargs)
        self.period = validation.positive_int("period", period)
        self.n_vars = validation.positive_int("n_vars", n_vars)
        self.pred_len = validation.positive_int("pred_len", pred_len)
        self._code = normalize_freq(freq)
        self.freq = getattr(freq, "freqstr", freq)
        if self.period > 1 and self._code not in _CYCLIC:
            raise ValueError(
                f"`period` must be 1 for freq={self.freq!r} (a cycle needs time-of-day or "
                f"day-of-week marks), got {self.period}"
            )

    def build(self, x_mark_shape, y_mark_shape=None):
        self.table = self.add_weight(shape=(self.period, self.n_vars), initializer="zeros", name="table")

    def phases(self, marks):
        """int32 `(...)`: the phase in `[0, period)` of each step of `marks` `(..., mark_dim)`."""
        marks = ops.cast(marks, "float32")
        if self._code in _TIME_OF_DAY:
            seconds = sum(
                ops.round((marks[..., col] + 0.5) * top) * unit for col, top, unit in _TIME_OF_DAY[self._code]
            )
            phase = ops.round(seconds * (self.period / 86400.0))
        elif self._code in ("d", "b"):
            phase = ops.round((marks[..., 0] + 0.5) * 6.0)  # day of week, Monday = 0
        else:
            phase = ops.zeros_like(marks[..., 0])
        return ops.mod(ops.cast(phase, "int32"), self.period)

    def phase(self, x_mark):
        """int32 `(batch,)`: the phase of each window's first step, in `[0, period)`."""
        return self.phases(x_mark[:, 0])

    def call(self, x_mark, y_mark=None):
        seq_len = x_mark.shape[1]
        if y_mark is None:
            steps = ops.arange(seq_len + self.pred_len, dtype="int32")
            cycle = ops.take(self.table, ops.mod(self.phase(x_mark)[:, None] + steps, self.period), axis=0)
            return cycle[:, :seq_len], cycle[:, seq_len:]
        steps = ops.arange(seq_len, dtype="int32")
        cycle_in = ops.take(self.table, ops.mod(self.phase(x_mark)[:, None] + steps, self.period), axis=0)
        return cycle_in, ops.take(self.table, self.phases(y_mark), axis=0)

    def get_config(self):
        config = super().get_config()
        config.update({"period": self.period, "n_vars": self.n_vars, "pred_len": self.pred_len, "freq": self.freq})
        return config


def cycle_period(freq):
    """Steps per day for sub-daily `freq`, 7 daily, 5 business-daily, else 1 (no cycle)."""
    if normalize_freq(freq) not in _CYCLIC:
        return 1
    return seasonal_period(getattr(freq, "freqstr", freq))


def build_linear(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    period=None, revin=False,
):
    """CycleLinear: a learned cycle per variate plus one linear map over time (see the module docstring).

    `y[h, c] = Q[ph(L + h), c] + b[h] + sum_s W[s, h] (x[s, c] - Q[(p + s) % P, c]) [+ sum_j u[h, j] V[j, c]]`.
    Future inputs: with `y_mark` the forecast steps' phases `ph(L + h)` are
    read off their marks instead of counted on from the window's first step
    (only the phase is read from `y_mark`: pass holiday or event columns
    as `x_future` for them to weigh); with `x_future` the linear term
    `u @ V`, `u = x_future` or, with a mask,
    `[where(mask > 0, x_future, 0), mask]`, a `Dense(n_vars, use_bias=False)`
    per step (zeros at first) is added before the target is picked (in
    normalised units with `revin`; covariates enter as given either way).

    Args:
        seq_len, pred_len: input and forecast lengths.
        n_vars: number of input variates.
        mark_dim: timeF mark columns, at least `FREQ_WIDTH[freq]` when there
            is a cycle (extra columns after the standard ones are ignored).
        freq: frequency code or pandas alias of the marks; gives the cycle.
        target_index: `None` for all variates out, or the one to forecast.
        seed: unused (no dropout); accepted for a common API.
        future_marks: take the forecast steps' marks `y_mark`.
        future_dim: number of future-known covariates `x_future` (0: none).
        future_mask: take a `future_mask` over `x_future` (needs `future_dim > 0`).
        period: steps per cycle; `None` (default): from `freq`, see
            `cycle_period`; 1: no cycle.
        revin: normalise each window's variates by their mean and
            `sqrt(var + 1e-5)` (population variance; CycleNet's `torch.var`
            is the sample one), no affine, before removing the cycle, and
            denormalise the forecast (the layer `revin`). Default False.

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_linear(seq_len=48, pred_len=24, n_vars=3, mark_dim=4, freq="h", future_marks=True, future_dim=1)
    >>> model.get_layer("cycle").period, [t.name for t in model.inputs], model.output.shape
    (24, ['x', 'x_mark', 'y_mark', 'x_future'], (None, 24, 3))

    Reference: Lin et al., "CycleNet: Enhancing Time Series Forecasting through
    Modeling Periodic Patterns", NeurIPS 2024.
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    period = cycle_period(freq) if period is None else validation.positive_int("period", period)
    revin = validation.flag("revin", revin)
    width = FREQ_WIDTH[normalize_freq(freq)]
    if period > 1 and mark_dim < width:
        raise ValueError(f"`mark_dim` must be >= {width} (the timeF width of freq={freq!r}), got {mark_dim}")
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)
    x, x_mark = inputs.x, inputs.x_mark
    if revin:
        norm, x, stats = common.normalise(x, n_vars, affine=False)
    cycle = Cycle(period, n_vars, pred_len, freq=freq, name="cycle")
    cycle_in, cycle_out = cycle(x_mark) if inputs.y_mark is None else cycle(x_mark, inputs.y_mark)
    z = keras.layers.Permute((2, 1), name="to_vars_major")(keras.layers.Subtract(name="decycle")([x, cycle_in]))
    z = keras.layers.Dense(pred_len, name="linear")(z)  # (batch, n_vars, pred_len)
    y = keras.layers.Add(name="recycle")([z, keras.layers.Permute((2, 1))(cycle_out)])
    future = common.known_future(inputs)
    if future is not None:
        f = keras.layers.Dense(n_vars, use_bias=False, kernel_initializer="zeros", name="future_linear")(future)
        y = keras.layers.Add(name="future_add")([y, keras.layers.Permute((2, 1), name="future_to_vars_major")(f)])
    if revin:
        return keras.Model(inputs.all, common.output(y, norm, stats, target_index), name="cyclelinear")
    if target_index is not None:
        y = keras.layers.Cropping1D((target_index, n_vars - target_index - 1), name="target")(y)
    y = keras.layers.Permute((2, 1), name="to_time_major")(y)
    return keras.Model(inputs.all, y, name="cyclelinear")


DEFAULTS = common.hyperparameters(build_linear)


def fit_cyclelinear(model, train, val=None, alphas=ridge.ALPHAS):
    """Sets a CycleLinear model's weights in closed form; returns `{"alpha", "val_mse"}`.

    `train`, `val`: `(inputs, y)` numpy windows, as `fit_least_squares` takes
    them. With `revin`, each window's input and target are first scaled by
    the input's statistics (RevIN's, per variate). `Q` becomes each
    variate's mean at each phase over the training windows (the forecast
    steps' phases off `y_mark` when the model takes it); `W`, `b` (and `V`
    with future covariates) the least-squares solution from the de-cycled
    inputs to the de-cycled targets, all variates pooled, with the ridge
    penalty `alpha ||W||^2` (`b` and `V` are not penalised), `alpha` the one
    of `alphas` with the lowest validation MSE in data units (the first one
    without `val`); see `kerasfactory.models.ridge`.
    """
    cycle, linear = model.get_layer("cycle"), model.get_layer("linear")
    future_linear, norm = ridge.layer(model, "future_linear"), ridge.layer(model, "revin")
    period, target_index = cycle.period, ridge.target_index(model)

    def marks_phase(marks, first_only):
        marks = keras.ops.convert_to_tensor(np.asarray(marks, "float32"))
        return keras.ops.convert_to_numpy(cycle.phase(marks) if first_only else cycle.phases(marks))

    def windows(split, argument):  # x, y (normalised with revin), phases of every step, u, RevIN's stdev
        given, y = ridge.split_arrays(model, split, argument)
        x = np.asarray(given["x"], "float64")
        L, H = x.shape[1], y.shape[1]
        steps = (marks_phase(given["x_mark"], True)[:, None] + np.arange(L + H)) % period
        if "y_mark" in given:
            steps[:, L:] = marks_phase(given["y_mark"], False)
        if target_index is not None:
            x = x[..., target_index : target_index + 1]
        scale = None
        if norm is not None:
            mean, scale = ridge.instance_stats(x, norm.eps)
            x, y = (x - mean) / scale, (y - mean) / scale
            scale = scale.transpose(0, 2, 1)
        return x, y, steps, ridge.future_columns(given, marks=False), scale

    x, y, steps, u, scale = windows(train, "train")
    L = x.shape[1]
    sums = np.zeros((period, x.shape[-1]))
    np.add.at(sums, steps.ravel(), np.concatenate([x, y], axis=1).reshape(-1, x.shape[-1]))
    counts = np.bincount(steps.ravel(), minlength=period)[:, None]
    table = sums / np.maximum(counts, 1)

    def design(x, y, steps, u, scale):  # (windows, variates, steps), cycle removed
        a, b = x - table[steps[:, :L]], y - table[steps[:, L:]]
        return ridge.Design(a.transpose(0, 2, 1), b.transpose(0, 2, 1), u, scale)

    alpha, (w, bias, v), val_mse = ridge.fit(
        design(x, y, steps, u, scale), None if val is None else design(*windows(val, "val")), alphas
    )
    columns = slice(None) if target_index is None else slice(target_index, target_index + 1)
    full = np.zeros((period, cycle.n_vars))
    full[:, columns] = table
    cycle.table.assign(full.astype("float32"))
    linear.kernel.assign(w.astype("float32"))
    linear.bias.assign(bias.astype("float32"))
    if future_linear is not None:
        kernel = np.zeros((v.shape[1], cycle.n_vars))
        kernel[:, columns] = v.T
        future_linear.kernel.assign(kernel.astype("float32"))
    return {"alpha": alpha, "val_mse": val_mse}
