"""Quantile forecasts from any point forecaster, monotone by construction.

The wrapped model's point forecast `m` is taken as the median (the 0.5
quantile, whether or not 0.5 is among the levels asked for: it is always
the centre the others spread from). For the levels above 0.5, sorted
ascending, and those below, sorted descending (outward from the centre):

    up_j   = m + s * sum_{k <= j} softplus(a_k)      (levels > 0.5)
    down_j = m - s * sum_{k <= j} softplus(b_k)      (levels < 0.5)
    0.5    = m                                        (when asked for)

`a`, `b` are learned per (horizon step, output variate, level); `s > 0` is
a per-window, per-variate scale: the standard deviation over time of the
input window `x` of each output variate, `s = sqrt(var_t(x) + epsilon)`
(RevIN's statistic), so that interval widths follow the series' scale.
Softplus is >= 0 and `s` > 0, so the levels never cross, whatever the
weights. The head acts on the model's final output, in data units (after
any RevIN denormalisation), so the sign of RevIN's affine weight, or
anything else inside the wrapped model, cannot reorder the quantiles.

At initialisation the offsets reproduce a normal distribution around `m`
with standard deviation `s`: `sum_{k <= j} softplus(a_k) = Phi^-1(q_j)`
(e.g. 0.1 and 0.9 start at `m -+ 1.2816 s`).
"""

import math
import statistics

import keras
import numpy as np
from keras import ops

from kerasfactory.layers import validation
from kerasfactory.quantiles import check_quantiles


def _inverse_softplus(v):
    """`a` with `softplus(a) = v` for `v > 0`."""
    return v + math.log(-math.expm1(-v))


def _initial_offsets(quantiles):
    """Raw weights, below levels (ascending) then above (ascending), such that the head starts at
    `m + Phi^-1(q) s`; each increment is at least 1e-6 so that `log(expm1(.))` stays finite."""
    normal = statistics.NormalDist()

    def increments(levels):  # levels ordered outward from 0.5
        z = [abs(normal.inv_cdf(q)) for q in levels]
        return [_inverse_softplus(max(b - a, 1e-6)) for a, b in zip([0.0, *z], z)]

    below = [q for q in quantiles if q < 0.5]
    above = [q for q in quantiles if q > 0.5]
    return np.array([*increments(below[::-1])[::-1], *increments(above)], "float64")


@keras.saving.register_keras_serializable(package="kerasfactory")
class QuantileHead(validation.Layer):
    """Quantiles around a point forecast: `m -+ s * cumulative softplus offsets` (see the module docstring).

    `y[..., j] = m + s * sign(q_j - 0.5) * sum_{k between 0.5 and q_j} softplus(w_k)`,
    with `s = sqrt(var_t(x[..., c]) + epsilon)` for the output variates `c`
    (all of `x`'s, or `target_index` alone).

    Args:
        quantiles: the levels, sorted, distinct, in `(0, 1)`.
        target_index: `None` when the point forecast has a column per
            variate of `x`; else the variate of `x` it forecasts (features
            "MS"), whose scale is used.
        epsilon: added to the variance, > 0 (RevIN's 1e-5 by default), so
            that a constant window still has `s > 0`.

    Call args:
        point: `(batch, pred_len, n_out)`, the point forecast (the median).
        x: `(batch, seq_len, n_vars)`, the input window; `n_vars = n_out`
            without `target_index`.

    Output shape: `(batch, pred_len, n_out, n_q)`, non-decreasing along the
    last axis. Weight `offsets`: `(pred_len, n_out, n_q')`, `n_q'` the
    levels other than 0.5. The scale is computed in float32 (float64 under
    a float64 policy).

    Example:
    >>> import numpy as np
    >>> head = QuantileHead((0.1, 0.5, 0.9))
    >>> x = np.random.default_rng(0).normal(size=(2, 16, 3)).astype("float32")
    >>> y = head(np.zeros((2, 4, 3), "float32"), x)
    >>> tuple(y.shape), bool(np.all(np.diff(keras.ops.convert_to_numpy(y), axis=-1) >= 0))
    ((2, 4, 3, 3), True)
    """

    def __init__(self, quantiles, target_index=None, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.quantiles = check_quantiles(quantiles)
        if target_index is not None:
            target_index = validation.non_negative_int("target_index", target_index)
        self.target_index = target_index
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(f"`epsilon` must be a positive number, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.n_below = sum(q < 0.5 for q in self.quantiles)
        self.n_above = sum(q > 0.5 for q in self.quantiles)
        self.has_median = 0.5 in self.quantiles

    def build(self, point_shape, x_shape):
        point_shape = validation.input_shape("point", point_shape, 3)
        x_shape = validation.input_shape("x", x_shape, 3)
        pred_len, n_out, n_vars = point_shape[1], point_shape[2], x_shape[2]
        if pred_len is None or n_out is None:
            raise ValueError(f"`point` must have a known pred_len and n_out, got shape {point_shape}")
        if self.target_index is None and n_vars is not None and n_vars != n_out:
            raise ValueError(
                f"`x` last dimension must equal the point forecast's n_out={n_out} without `target_index`, "
                f"got {n_vars} (shape {x_shape})"
            )
        if self.target_index is not None:
            if n_out != 1:
                raise ValueError(f"`point` last dimension must be 1 with `target_index`, got {n_out}")
            if n_vars is not None and self.target_index >= n_vars:
                raise ValueError(f"`target_index` must be in [0, {n_vars}), got {self.target_index}")
        start = _initial_offsets(self.quantiles)
        self.offsets = self.add_weight(
            shape=(pred_len, n_out, len(start)),
            # A fresh tensor, not a broadcast view (torch would share one memory location across the weight).
            initializer=lambda shape, dtype=None: ops.ones(shape, dtype) * ops.convert_to_tensor(start, dtype),
            name="offsets",
        )

    def call(self, point, x):
        stats_dtype = "float64" if self.compute_dtype == "float64" else "float32"
        if self.target_index is not None:
            x = x[..., self.target_index : self.target_index + 1]
        x = ops.cast(x, stats_dtype)
        scale = ops.sqrt(ops.var(x, axis=1) + self.epsilon)  # (batch, n_out)
        scale = ops.cast(scale, self.compute_dtype)[:, None, :, None]
        widths = ops.softplus(ops.cast(self.offsets, self.compute_dtype))  # (pred_len, n_out, n_q')
        below = ops.flip(ops.cumsum(ops.flip(widths[..., : self.n_below], -1), axis=-1), -1)
        above = ops.cumsum(widths[..., self.n_below :], axis=-1)
        m = ops.cast(point, self.compute_dtype)[..., None]
        parts = [m - scale * below[None]] if self.n_below else []
        parts += [m] if self.has_median else []
        parts += [m + scale * above[None]] if self.n_above else []
        return ops.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]

    def compute_output_shape(self, point_shape, x_shape):
        return (*tuple(point_shape), len(self.quantiles))

    def get_config(self):
        return {
            **super().get_config(),
            "quantiles": list(self.quantiles),
            "target_index": self.target_index,
            "epsilon": self.epsilon,
        }


def _point_target_index(model):
    """The variate a model built with `target_index` forecasts (its `target` Cropping1D layer), else `None`."""
    return next((layer.cropping[0] for layer in model.layers if layer.name == "target"), None)


def with_quantiles(model, quantiles, target_index=None, name=None):
    """Wraps a point forecaster into one that forecasts `quantiles`, monotone by construction.

    The new functional model has the same inputs as `model` (any of
    `kerasfactory.models.MODELS`, whatever inputs it was built with) and
    shares its layers and weights; its output is
    `QuantileHead(quantiles)(model.output, x)`: `(batch, pred_len, n_out, n_q)`,
    the point forecast as the median and the other levels spread from it by
    `s` times learned cumulative softplus offsets (`QuantileHead`).

    Args:
        model: a built forecaster with an input named `x` (else its first
            input is taken as `x`) and output `(batch, pred_len, n_out)`.
        quantiles: the levels, sorted, distinct, in `(0, 1)`.
        target_index: the variate of `x` the model forecasts when its
            output has one column for one of several variates; read off the
            model's `target` layer when `None`, as built with
            `build_model(..., target_index=...)`.
        name: the new model's name; `"<model.name>_quantiles"` by default.

    Returns:
        A `keras.Model`, uncompiled; train it with
        `kerasfactory.losses.Pinball(quantiles)`.

    Example:
    >>> from kerasfactory.models import build_model
    >>> point = build_model("rlinear", seq_len=24, pred_len=8, n_vars=3, mark_dim=4, target_index=1)
    >>> model = with_quantiles(point, (0.1, 0.5, 0.9))
    >>> tuple(model.output.shape), model_quantiles(model)
    ((None, 8, 1, 3), (0.1, 0.5, 0.9))
    """
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise TypeError(f"`model` must be a built functional keras.Model, got {type(model).__name__}")
    if model_quantiles(model) is not None:
        raise ValueError(f"`model` must be a point forecaster, got one already forecasting {model_quantiles(model)}")
    quantiles = check_quantiles(quantiles)
    found = _point_target_index(model)
    if target_index is not None and found is not None and target_index != found:
        raise ValueError(f"`target_index` must match the model's target layer ({found}), got {target_index!r}")
    target_index = found if target_index is None else target_index
    x = next((t for t in model.inputs if t.name == "x"), model.inputs[0])
    output = model.outputs[0] if isinstance(model.output, (list, tuple)) else model.output
    head = QuantileHead(quantiles, target_index=target_index, name="quantiles")
    return keras.Model(model.inputs, head(output, x), name=name or f"{model.name}_quantiles")


def model_quantiles(model):
    """The levels `model` forecasts (its `QuantileHead`'s), or `None` for a point forecaster."""
    head = next((layer for layer in model.layers if isinstance(layer, QuantileHead)), None)
    return None if head is None else head.quantiles


__all__ = ["QuantileHead", "with_quantiles", "model_quantiles"]
