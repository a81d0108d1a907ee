"""The multiscale inputs of TimeMixer: a series and its marks at `layers + 1` time resolutions."""

import keras
from keras import ops

from kerasfactory.layers import validation

METHODS = ("avg", "max")


@keras.saving.register_keras_serializable(package="kerasfactory")
class MultiScaleInputs(validation.Layer):
    """A series and its marks, pooled `layers` times by `window` along time.

    `x_0 = x`, `x_{i+1} = pool(x_i)` with a `window`-wide, `window`-strided
    average (`method="avg"`) or maximum (`"max"`) over time, each variate on
    its own (PyTorch's `AvgPool1d`/`MaxPool1d(window)`: a trailing remainder
    is dropped); `m_i = x_mark[:, ::window ** i]`, the marks of every
    `window ** i`-th step. Time-Series-Library TimeMixer's
    `__multi_scale_process_inputs`.

    Args:
        layers: number of down-samplings (scales `0 .. layers`), >= 1.
        window: pooling width and stride. Defaults to 2.
        method: `"avg"` (default) or `"max"`.

    Input shapes: `x` `(batch, time, channels)`, `x_mark` `(batch, time, marks)`.
    Output: the list `[x_0, ..., x_layers, m_0, ..., m_layers]`, `x_i`
    `(batch, time // window ** i, channels)` and `m_i`
    `(batch, ceil(time / window ** i), marks)` (the same length when
    `window ** layers` divides `time`, as TimeMixer needs).

    Example:
    >>> x = keras.ops.reshape(keras.ops.arange(8, dtype="float32"), (1, 8, 1))
    >>> x0, x1, m0, m1 = MultiScaleInputs(1)(x, x)
    >>> keras.ops.convert_to_numpy(x1)[0, :, 0].tolist(), keras.ops.convert_to_numpy(m1)[0, :, 0].tolist()
    ([0.5, 2.5, 4.5, 6.5], [0.0, 2.0, 4.0, 6.0])
    """

    def __init__(self, layers, window=2, method="avg", **kwargs):
        super().__init__(**kwargs)
        self.layers = validation.positive_int("layers", layers)
        self.window = validation.positive_int("window", window)
        self.method = validation.one_of("method", method, METHODS)

    def call(self, x, x_mark):
        pool = ops.average_pool if self.method == "avg" else ops.max_pool
        xs, marks = [ops.cast(x, self.compute_dtype)], [ops.cast(x_mark, self.compute_dtype)]
        for _ in range(self.layers):
            xs.append(pool(xs[-1], self.window, strides=self.window, padding="valid"))
            marks.append(marks[-1][:, :: self.window])
        return xs + marks

    def compute_output_shape(self, x_shape, x_mark_shape):
        def length(time, i, ceil):
            if time is None:
                return None
            step = self.window**i
            return -(-time // step) if ceil else time // step

        xs = [(x_shape[0], length(x_shape[1], i, False), x_shape[2]) for i in range(self.layers + 1)]
        marks = [(x_mark_shape[0], length(x_mark_shape[1], i, True), x_mark_shape[2]) for i in range(self.layers + 1)]
        return xs + marks

    def get_config(self):
        config = super().get_config()
        config.update(layers=self.layers, window=self.window, method=self.method)
        return config
