import keras
from keras import ops

from kerasfactory.layers import validation

PADDINGS = ("same", "circular", "causal")


@keras.saving.register_keras_serializable(package="kerasfactory")
class TokenEmbedding(validation.Layer):
    """Embeds raw values with a 1D convolution over time.

    `y[b, t] = bias + sum_k sum_c x_pad[b, t + k, c] * W[k, c]`, where `x_pad`
    is `x` padded along time so that `time` is unchanged:

    - `"same"`: zeros on both sides (`(k - 1) // 2` left, `k // 2` right);
    - `"circular"`: wrap-around, the Time-Series-Library convention;
    - `"causal"`: `k - 1` zeros on the left only, so `y[:, t]` sees `x[:, :t+1]`.

    Use `padding="circular", use_bias=False` for the exact Time-Series-Library
    layer (see `kerasfactory.interop`).

    Args:
        c_in: number of input channels (variates).
        d_model: embedding size (number of filters).
        kernel_size: width of the convolution along time. Defaults to 3.
        padding: one of `"same"`, `"circular"`, `"causal"`.
        use_bias: whether the convolution has a learnable bias.
        kernel_initializer: defaults to `"he_normal"` (Kaiming normal,
            std = sqrt(2 / (kernel_size * c_in))).
        bias_initializer: defaults to `"zeros"`.
        kernel_regularizer: optional regularizer for the kernel.

    Input shape: `(batch, time, c_in)` with `time >= 1`; integer and bool
    inputs are cast to the layer's compute dtype. NaN/Inf in `x` propagate
    to the outputs that read them.
    Output shape: `(batch, time, d_model)`.

    A call pads `x` along time as `padding` says, then applies `self.conv`, a
    `"valid"` `keras.layers.Conv1D` that exists from construction (set e.g.
    `conv.kernel_initializer` before the first call): what Keras does to a
    `Conv1D` (mixed precision, LoRA via `conv.enable_lora`) applies here.

    Example:
    >>> layer = TokenEmbedding(c_in=7, d_model=64)
    >>> layer(keras.random.normal((2, 96, 7))).shape
    (2, 96, 64)

    Reference: Zhou et al., "Informer", AAAI 2021.
    """

    def __init__(
        self,
        c_in,
        d_model,
        kernel_size=3,
        padding="same",
        use_bias=True,
        kernel_initializer="he_normal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.c_in = validation.positive_int("c_in", c_in)
        self.d_model = validation.positive_int("d_model", d_model)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        self.padding = validation.one_of("padding", padding, PADDINGS)
        self.use_bias = bool(use_bias)
        initializer, regularizer = keras.initializers.get, keras.regularizers.get
        self.conv = keras.layers.Conv1D(
            self.d_model,
            self.kernel_size,
            padding="valid",
            use_bias=self.use_bias,
            kernel_initializer=validation.keras_object(
                "kernel_initializer", kernel_initializer, initializer, "initializer"
            ),
            bias_initializer=validation.keras_object("bias_initializer", bias_initializer, initializer, "initializer"),
            kernel_regularizer=validation.keras_object(
                "kernel_regularizer", kernel_regularizer, regularizer, "regularizer"
            ),
            dtype=self.dtype_policy,
            name="conv",
        )

    def _check(self, shape):
        shape = validation.input_shape("inputs", shape, 3, self.c_in, "c_in")
        if shape[1] == 0:
            raise ValueError(f"`inputs` time length must be >= 1, got 0 (shape {shape})")

    def build(self, input_shape):
        self._check(input_shape)
        self.conv.build((None, None, self.c_in))

    def call(self, inputs):
        self._check(inputs.shape)
        x = ops.cast(inputs, self.compute_dtype)
        total = self.kernel_size - 1
        left = total if self.padding == "causal" else total // 2
        if self.padding == "circular":
            # Step t of the padded series is step (t - left) mod time: wraps as often as the kernel needs.
            time = ops.shape(x)[1]
            x = ops.take(x, ops.mod(ops.arange(-left, time + total - left), time), axis=1)
        else:
            x = ops.pad(x, [[0, 0], [left, total - left], [0, 0]])
        return self.conv(x)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "c_in": self.c_in,
                "d_model": self.d_model,
                "kernel_size": self.kernel_size,
                "padding": self.padding,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.conv.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.conv.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.conv.kernel_regularizer),
            }
        )
        return config
