import keras
from keras import ops

from kerasfactory.layers import validation


@keras.saving.register_keras_serializable(package="kerasfactory")
class SeriesDecomposition(validation.Layer):
    """Splits each series into a moving-average trend and the seasonal rest.

    `trend[t] = mean(x_pad[t : t + k])`, `seasonal = x - trend`, where `x_pad`
    repeats the first step `(k - 1) / 2` times before the series and the last
    step as often after it (the reference's edge padding), so the trend has
    the input's length. Averaged in float32 (float64 under a float64 policy).

    Args:
        kernel_size: the moving average's width `k`, a positive odd integer.
            Defaults to 25 (the reference's `moving_avg`).

    Input shape: `(batch, time, channels)`.
    Output: `(seasonal, trend)`, each of the input's shape.

    Example:
    >>> x = keras.ops.reshape(keras.ops.arange(10, dtype="float32"), (1, 10, 1))
    >>> seasonal, trend = SeriesDecomposition(3)(x)
    >>> keras.ops.convert_to_numpy(trend)[0, :3, 0].tolist()
    [0.3333333432674408, 1.0, 2.0]

    Reference: Wu et al., "Autoformer: Decomposition Transformers with
    Auto-Correlation for Long-Term Series Forecasting", NeurIPS 2021
    (`series_decomp`, also in DLinear and TimeMixer).
    """

    def __init__(self, kernel_size=25, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"`kernel_size` must be a positive odd integer, got {kernel_size!r}")

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        half = (self.kernel_size - 1) // 2
        padded = ops.concatenate([ops.repeat(x[:, :1], half, axis=1), x, ops.repeat(x[:, -1:], half, axis=1)], 1)
        trend = ops.average_pool(padded, self.kernel_size, strides=1, padding="valid")
        return x - trend, trend

    def compute_output_shape(self, input_shape):
        return tuple(input_shape), tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["kernel_size"] = self.kernel_size
        return config
