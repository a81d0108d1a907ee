import math
import numbers

import keras
from keras import ops

from kerasfactory.layers import validation

MODES = ("norm", "denorm")


@keras.saving.register_keras_serializable(package="kerasfactory")
class ReversibleInstanceNorm(validation.Layer):
    """Reversible instance normalisation (RevIN) of each series over time.

    Norm: `mean = mean_t(x)`, `stdev = sqrt(var_t(x) + eps)` (population
    variance), `y = (x - mean) / stdev * w + b`.
    Denorm: `x = (y - b) / (w + eps^2) * stdev + mean`.
    `w`, `b` (`affine_weight`, `affine_bias`) are per-feature and learnable
    when `affine=True`. A constant series has `stdev = sqrt(eps)`: no NaN.
    NaN/Inf in a series propagate to that series' outputs (and statistics).

    The statistics travel as a tensor, not as hidden state, so the layer
    works in functional and subclassed models and under `jit`:

    >>> revin = ReversibleInstanceNorm(num_features=7)
    >>> x = keras.random.normal((2, 96, 7))
    >>> x_norm, stats = revin(x, return_stats=True)   # stats: (2, 2, 7)
    >>> y = revin(x_norm[:, -24:], mode="denorm", stats=stats)
    >>> y.shape
    (2, 24, 7)

    In eager code `revin(y, mode="denorm")` may omit `stats`: it then uses
    those of the last eager norm call. Traced or symbolic code passes them.

    Args:
        num_features: number of features (the last axis).
        eps: added to the variance; also `eps^2` guards the affine inverse.
        affine: whether to learn a per-feature scale and shift.

    Call args:
        inputs: `(batch, time, num_features)`; with `feature_index`,
            `(batch, time, 1)`.
        mode: `"norm"` or `"denorm"`.
        stats: `(batch, 2, num_features)`, rows `[mean, stdev]`, as returned
            by `return_stats=True`. Optional for norm (then computed from
            `inputs`; given, it normalises e.g. targets with the input's
            statistics); required for denorm in traced code.
        return_stats: norm only; return `(outputs, stats)`.
        feature_index: denorm only; denormalise a single-feature `inputs`
            with feature `feature_index`'s statistics and affine parameters.

    Output shape: as `inputs`; `stats` is `(batch, 2, num_features)`.
    The statistics are computed in float32 whatever the dtype policy (float64
    under a float64 one), and `stats` has that dtype.

    Reference: Kim et al., "Reversible Instance Normalization for Accurate
    Time-Series Forecasting against Distribution Shift", ICLR 2022.
    """

    def __init__(self, num_features, eps=1e-5, affine=True, **kwargs):
        # Statistics in float32 even under mixed precision: no autocast.
        super().__init__(autocast=False, **kwargs)
        self.num_features = validation.positive_int("num_features", num_features)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < math.inf:
            raise ValueError(f"`eps` must be a finite positive float, got {eps!r}")
        self.eps = float(eps)
        self.affine = bool(affine)
        self._last_stats = None  # legacy eager form only; never a traced tensor

    def build(self, input_shape):
        if self.affine:
            shape = (self.num_features,)
            self.affine_weight = self.add_weight(shape=shape, initializer="ones", name="affine_weight")
            self.affine_bias = self.add_weight(shape=shape, initializer="zeros", name="affine_bias")

    def _check(self, shape, mode, stats_shape, return_stats, feature_index):
        validation.one_of("mode", mode, MODES)
        if return_stats and mode != "norm":
            raise ValueError(f"`return_stats` must be False with mode='denorm', got {return_stats!r}")
        if feature_index is not None:
            if mode != "denorm":
                raise ValueError(f"`feature_index` must be None with mode='norm', got {feature_index!r}")
            if isinstance(feature_index, bool) or not isinstance(feature_index, numbers.Integral) or not (
                0 <= feature_index < self.num_features
            ):
                raise ValueError(f"`feature_index` must be an integer in [0, {self.num_features}), "
                                 f"got {feature_index!r}")
        if feature_index is None:
            validation.input_shape("inputs", shape, 3, self.num_features, "num_features")
        elif validation.input_shape("inputs", shape, 3)[-1] not in (None, 1):
            raise ValueError(f"`inputs` last dimension must be 1 with `feature_index`={feature_index}, got {shape[-1]}")
        expected = (shape[0], 2, self.num_features)
        if stats_shape is not None and (
            len(stats_shape) != 3 or any(None not in (e, s) and e != s for e, s in zip(expected, stats_shape))
        ):
            raise ValueError(f"`stats` must have shape (batch, 2, num_features)={expected}, got {tuple(stats_shape)}")

    @property
    def _stats_dtype(self):
        return "float64" if self.compute_dtype == "float64" else "float32"

    def _affine(self, feature_index):
        features = slice(None) if feature_index is None else slice(feature_index, feature_index + 1)
        return (ops.cast(p, self._stats_dtype)[features] for p in (self.affine_weight, self.affine_bias))

    def _stats(self, x):
        mean = ops.mean(x, axis=1, keepdims=True)
        var = ops.mean(ops.square(x - mean), axis=1, keepdims=True)
        return ops.concatenate([mean, ops.sqrt(var + self.eps)], axis=1)

    def call(self, inputs, mode="norm", stats=None, return_stats=False, feature_index=None):
        stats_shape = None if stats is None else stats.shape
        self._check(inputs.shape, mode, stats_shape, return_stats, feature_index)
        x = ops.cast(inputs, self._stats_dtype)
        if mode == "norm":
            if stats is None:
                stats = ops.stop_gradient(self._stats(x))
                if not return_stats and validation.is_concrete(x):
                    self._last_stats = stats
            stats = ops.cast(stats, self._stats_dtype)
            x = (x - stats[:, :1]) / stats[:, 1:]
            if self.affine:
                w, b = self._affine(None)
                x = x * w + b
            x = ops.cast(x, self.compute_dtype)
            return (x, stats) if return_stats else x
        if stats is None:
            stats = self._remembered_stats(x)
        stats = ops.cast(stats, self._stats_dtype)
        if feature_index is not None:
            stats = stats[:, :, feature_index : feature_index + 1]
        if self.affine:
            w, b = self._affine(feature_index)
            x = (x - b) / (w + self.eps * self.eps)
        x = x * stats[:, 1:] + stats[:, :1]
        return ops.cast(x, self.compute_dtype)

    def _remembered_stats(self, x):
        if self._last_stats is None or not validation.is_concrete(x):
            raise ValueError(
                "`stats` must be passed to ReversibleInstanceNorm with mode='denorm' "
                "(get them from `x_norm, stats = layer(x, return_stats=True)`); "
                "only eager code after an eager mode='norm' call may omit them, got stats=None"
            )
        if x.shape[0] != self._last_stats.shape[0]:
            raise ValueError(
                f"`inputs` batch size must equal that of the last mode='norm' call "
                f"({self._last_stats.shape[0]}), got {x.shape[0]}"
            )
        return self._last_stats

    def compute_output_spec(self, inputs, mode="norm", stats=None, return_stats=False, feature_index=None):
        stats_shape = None if stats is None else stats.shape
        self._check(inputs.shape, mode, stats_shape, return_stats, feature_index)
        if mode == "denorm" and stats is None:
            self._remembered_stats(inputs)  # symbolic: raises, asking for `stats`
        out = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if return_stats:
            return out, keras.KerasTensor((inputs.shape[0], 2, self.num_features), dtype=self._stats_dtype)
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(num_features=self.num_features, eps=self.eps, affine=self.affine)
        return config
