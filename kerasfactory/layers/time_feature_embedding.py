import keras
from keras import ops

from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from kerasfactory.layers import float64_dense, validation


@keras.saving.register_keras_serializable(package="kerasfactory")
class TimeFeatureEmbedding(validation.Layer):
    """Bias-free linear map of continuous time features (timeF) to `d_model`.

    `y[b, t] = x[b, t] @ W`, `W` of shape `(width, d_model)`, where `width` is
    the number of timeF features of `freq` (Time-Series-Library `timeenc=1`):
    `'h'` 4, `'t'` 5, `'s'` 6, `'d'`/`'b'` 3, `'w'` 2, `'m'`/`'a'` 1, as
    `kerasfactory.time_features.time_features(dates, freq)` makes them, plus
    `extra_columns` covariates after them (holidays, events: the columns
    `kerasfactory.time_features.calendar` appends, `spec["extra_columns"]`).

    Args:
        d_model: embedding size.
        freq: a frequency code or pandas alias (`'h'`, `'30min'`, `'D'`, ...;
            see `kerasfactory.freq.normalize_freq`).
        kernel_initializer: initializer of `W`. Defaults to `"glorot_uniform"`.
        extra_columns: non-negative int, the number of continuous columns
            after the timeF features. Defaults to 0.

    The linear map is `self.embed`, a `keras.layers.Dense(d_model,
    use_bias=False)`; its kernel is the transpose of the reference
    `embed.weight`.

    Input shape: `(batch, time, width)`, `width = FREQ_WIDTH[freq] +
    extra_columns`; a different last dimension raises
    `ValueError` naming both widths. NaN/Inf propagate to their step's output.
    Output shape: `(batch, time, d_model)`.

    Example:
    >>> layer = TimeFeatureEmbedding(d_model=64, freq="h")
    >>> tuple(layer(keras.random.uniform((2, 96, 4), minval=-0.5, maxval=0.5)).shape)
    (2, 96, 64)
    >>> with_holidays = TimeFeatureEmbedding(d_model=64, freq="h", extra_columns=3)
    >>> tuple(with_holidays(keras.random.uniform((2, 96, 7), minval=-0.5, maxval=0.5)).shape)
    (2, 96, 64)

    Reference: Zhou et al., "Informer", AAAI 2021 (`TimeFeatureEmbedding` in
    Time-Series-Library `layers/Embed.py`).
    """

    def __init__(self, d_model, freq="h", kernel_initializer="glorot_uniform", extra_columns=0, **kwargs):
        super().__init__(**kwargs)
        self.d_model = validation.positive_int("d_model", d_model)
        self.extra_columns = validation.non_negative_int("extra_columns", extra_columns)
        self.width = FREQ_WIDTH[normalize_freq(freq)] + self.extra_columns
        self.freq = getattr(freq, "freqstr", freq)
        self.embed = keras.layers.Dense(
            self.d_model,
            use_bias=False,
            kernel_initializer=validation.keras_object(
                "kernel_initializer", kernel_initializer, keras.initializers.get, "initializer"
            ),
            dtype=self.dtype_policy,
            name="embed",
        )

    def build(self, input_shape):
        self._check_shape(input_shape)
        self.embed.build((None, None, self.width))

    def _check_shape(self, shape):
        shape = validation.input_shape("inputs", shape, 3)
        if shape[-1] is not None and shape[-1] != self.width:
            extra = f" plus `extra_columns`={self.extra_columns}" if self.extra_columns else ""
            raise ValueError(
                f"`inputs` last dimension must equal the timeF width of freq={self.freq!r}{extra}, "
                f"{self.width}, got {shape[-1]} (shape {shape})"
            )

    def call(self, inputs):
        self._check_shape(inputs.shape)
        return float64_dense.dense(self.embed, ops.cast(inputs, self.compute_dtype))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        initializer = keras.initializers.serialize(self.embed.kernel_initializer)
        config.update(d_model=self.d_model, freq=self.freq, kernel_initializer=initializer,
                      extra_columns=self.extra_columns)
        return config
