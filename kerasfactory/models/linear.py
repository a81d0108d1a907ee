"""CycleLinear: one linear map over time, applied to the series with its cycle removed.

`y[h, c] = Q[(p + L + h) % P, c] + b[h] + sum_s W[s, h] (x[s, c] - Q[(p + s) % P, c])`

for input steps `s < L` (`seq_len`), horizons `h < H` (`pred_len`), variates
`c`; `p` is the phase of the window's first step within a cycle of `P` steps
(a day for sub-daily data, a week for daily, read off the timeF marks).
`Q` (`P x n_vars`, the layer `cycle`) holds each variate's level at each phase;
`W` and `b` (the `Dense` layer `linear`) are shared by every variate (channel
independence). Train it with `fit` like the other models, or in closed form
with `fit_least_squares` (what `benchmarks/ett.py` does).

Reference: Lin et al., "CycleNet: Enhancing Time Series Forecasting through
Modeling Periodic Patterns", NeurIPS 2024 (CycleNet/Linear, without RevIN).
"""

import keras
import numpy as np
from keras import ops

from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from kerasfactory.layers import validation
from kerasfactory.models import common
from kerasfactory.time_features import seasonal_period

DEFAULTS = {"period": None}
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
    steps after them)`, each `(batch, steps, n_vars)`.
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

    def build(self, mark_shape):
        self.table = self.add_weight(shape=(self.period, self.n_vars), initializer="zeros", name="table")

    def phase(self, x_mark):
        """int32 `(batch,)`: the phase of each window's first step, in `[0, period)`."""
        first = ops.cast(x_mark[:, 0], "float32")
        if self._code in _TIME_OF_DAY:
            seconds = sum(ops.round((first[:, col] + 0.5) * top) * unit for col, top, unit in _TIME_OF_DAY[self._code])
            phase = ops.round(seconds * (self.period / 86400.0))
        elif self._code in ("d", "b"):
            phase = ops.round((first[:, 0] + 0.5) * 6.0)  # day of week, Monday = 0
        else:
            phase = ops.zeros_like(first[:, 0])
        return ops.mod(ops.cast(phase, "int32"), self.period)

    def call(self, x_mark):
        seq_len = x_mark.shape[1]
        steps = ops.arange(seq_len + self.pred_len, dtype="int32")
        cycle = ops.take(self.table, ops.mod(self.phase(x_mark)[:, None] + steps, self.period), axis=0)
        return cycle[:, :seq_len], cycle[:, seq_len:]

    def get_config(self):
        config = super().get_config()
        config.update({"period": self.period, "n_vars": self.n_vars, "pred_len": self.pred_len, "freq": self.freq})
        return config


def cycle_period(freq):
    """Steps per day for sub-daily `freq`, 7 daily, 5 business-daily, else 1 (no cycle)."""
    if normalize_freq(freq) not in _CYCLIC:
        return 1
    return seasonal_period(getattr(freq, "freqstr", freq))


def build_linear(*, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None, **given):
    """CycleLinear. `period` (steps per cycle; `None`: from `freq`, see `cycle_period`; 1: no cycle)."""
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    hp = common.hparams("linear", given, DEFAULTS)
    period = cycle_period(freq) if hp["period"] is None else validation.positive_int("period", hp["period"])
    width = FREQ_WIDTH[normalize_freq(freq)]
    if period > 1 and mark_dim < width:
        raise ValueError(f"`mark_dim` must be >= {width} (the timeF width of freq={freq!r}), got {mark_dim}")
    x, x_mark = common.inputs(seq_len, n_vars, mark_dim)
    cycle_in, cycle_out = Cycle(period, n_vars, pred_len, freq=freq, name="cycle")(x_mark)
    z = keras.layers.Permute((2, 1), name="to_vars_major")(keras.layers.Subtract(name="decycle")([x, cycle_in]))
    z = keras.layers.Dense(pred_len, name="linear")(z)  # (batch, n_vars, pred_len)
    y = keras.layers.Add(name="recycle")([z, keras.layers.Permute((2, 1))(cycle_out)])
    if target_index is not None:
        y = keras.layers.Cropping1D((target_index, n_vars - target_index - 1), name="target")(y)
    y = keras.layers.Permute((2, 1), name="to_time_major")(y)
    return keras.Model([x, x_mark], y, name="cyclelinear")


def fit_least_squares(model, train, val=None, alphas=(0.0, 1.0, 10.0, 100.0, 1000.0)):
    """Sets a CycleLinear model's weights in closed form; returns `{"alpha", "val_mse"}`.

    `train`, `val`: `((x, x_mark), y)` numpy windows, `y` holding what the model
    outputs (every variate, or the target alone for a model built with `target_index`). `Q` becomes each
    variate's mean at each phase over the training windows; `W`, `b` the ridge
    solution from the de-cycled inputs to the de-cycled targets, all variates
    pooled, its penalty the one of `alphas` with the lowest validation MSE
    (the first one without `val`).
    """
    cycle, linear = model.get_layer("cycle"), model.get_layer("linear")
    period = cycle.period
    target_index = next((layer.cropping[0] for layer in model.layers if layer.name == "target"), None)

    def decycled(split):
        (x, x_mark), y = split
        x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
        phase = keras.ops.convert_to_numpy(cycle.phase(keras.ops.convert_to_tensor(np.asarray(x_mark, "float32"))))
        steps = (phase[:, None] + np.arange(x.shape[1] + model.output.shape[1])) % period
        if target_index is not None:
            x = x[..., target_index : target_index + 1]
        return x, y, steps

    x, y, steps = decycled(train)
    L = x.shape[1]
    sums = np.zeros((period, x.shape[-1]))
    np.add.at(sums, steps.ravel(), np.concatenate([x, y], axis=1).reshape(-1, x.shape[-1]))
    counts = np.bincount(steps.ravel(), minlength=period)[:, None]
    table = sums / np.maximum(counts, 1)

    def pooled(x, y, steps):  # (windows * variates, steps) rows, cycle removed
        xs, ys = x - table[steps[:, :L]], y - table[steps[:, L:]]
        return xs.transpose(0, 2, 1).reshape(-1, L), ys.transpose(0, 2, 1).reshape(-1, y.shape[1])

    a, b = pooled(x, y, steps)
    mean_a, mean_b = a.mean(0), b.mean(0)
    a, b = a - mean_a, b - mean_b
    gram, cross = a.T @ a, a.T @ b

    def solve(alpha):
        w = np.linalg.lstsq(gram + alpha * np.eye(L), cross, rcond=None)[0]  # min-norm if singular
        return w, mean_b - mean_a @ w

    if val is None:
        alpha, val_mse = alphas[0], None
        w, bias = solve(alpha)
    else:
        va, vb = pooled(*decycled(val))
        fits = {alpha: solve(alpha) for alpha in alphas}
        scores = {alpha: float(np.mean((va @ w + bias - vb) ** 2)) for alpha, (w, bias) in fits.items()}
        alpha = min(scores, key=scores.get)
        (w, bias), val_mse = fits[alpha], scores[alpha]
    full = np.zeros((period, cycle.n_vars))
    full[:, slice(None) if target_index is None else slice(target_index, target_index + 1)] = table
    cycle.table.assign(full.astype("float32"))
    linear.kernel.assign(w.astype("float32"))
    linear.bias.assign(bias.astype("float32"))
    return {"alpha": alpha, "val_mse": val_mse}
