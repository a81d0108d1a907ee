import keras
import numpy as np
from keras import ops

from kerasfactory.layers import base, checks, contract, indices, tables

PADDINGS = ("same", "circular", "causal")


@keras.saving.register_keras_serializable(package="kerasfactory")
class TokenEmbedding(base.Layer):
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

    The convolution is `self.conv`, a `keras.layers.Conv1D` that exists from
    construction: set e.g. `conv.kernel_initializer` before the first call.

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
        self.c_in = checks.positive_int("c_in", c_in)
        self.d_model = checks.positive_int("d_model", d_model)
        self.kernel_size = checks.positive_int("kernel_size", kernel_size)
        self.padding = checks.one_of("padding", padding, PADDINGS)
        self.use_bias = bool(use_bias)
        kernel_initializer = checks.keras_object(
            "kernel_initializer", kernel_initializer, keras.initializers.get, "initializer"
        )
        bias_initializer = checks.keras_object("bias_initializer", bias_initializer, keras.initializers.get, "initializer")
        kernel_regularizer = checks.keras_object(
            "kernel_regularizer", kernel_regularizer, keras.regularizers.get, "regularizer"
        )
        self.conv = keras.layers.Conv1D(
            filters=self.d_model,
            kernel_size=self.kernel_size,
            padding="valid",
            use_bias=self.use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            dtype=self.dtype_policy,
            name="conv",
        )

    def _check(self, shape):
        shape = checks.input_shape("inputs", shape, 3, self.c_in, "c_in")
        if shape[1] == 0:
            raise ValueError(f"`inputs` time length must be >= 1, got 0 (shape {shape})")

    def build(self, input_shape):
        self._check(input_shape)
        self.conv.build((None, None, self.c_in))

    def _margins(self):
        """Steps of padding before and after the input along time."""
        total = self.kernel_size - 1
        left = total if self.padding == "causal" else total // 2
        return left, total - left

    def call(self, inputs):
        self._check(inputs.shape)
        x = ops.cast(inputs, self.compute_dtype)
        time = inputs.shape[1] if inputs.shape[1] is not None else ops.shape(inputs)[1]
        if checks.traced(inputs):
            return self._gather_contract(x, time, eager=False)
        return self._eager_bodies(x, time)[self._eager_path()]()

    def _eager_bodies(self, x, time):
        """Every body this layer can run eagerly on `x`, by name, all exact; `call` runs the fastest."""
        bodies = {"gather": lambda: self._gather_contract(x, time, eager=True),
                  "rolls": lambda: self._rolls_matmul(x, time)}
        if self.padding == "same":
            bodies["conv"] = lambda: self._eager_conv(x)
        return bodies

    def _eager_path(self):
        """`"conv"`, `"rolls"` or `"gather"`: the fastest eager body on this backend (benchmarks/token_paths.py)."""
        backend = keras.backend.backend()
        if backend == "tensorflow":
            return "conv" if self.padding == "same" and not self.use_bias else "rolls"
        return "conv" if backend == "jax" and self.padding == "same" else "gather"

    def _gather_contract(self, x, time, eager):
        # One gather of the padded input and one contraction with the conv
        # kernel: the convolution's sum in a few backend ops, faster than a
        # generic conv when compiled, on PyTorch, and on JAX unless "same".
        left, right = self._margins()
        if self.padding != "circular":
            x = ops.pad(x, [[0, 0], [left, right], [0, 0]])
        # Output step t reads steps t + offsets of the zero-padded input, or wraps around.
        offsets = np.arange(self.kernel_size) - (left if self.padding == "circular" else 0)
        steps = indices.window_steps(time, 1, offsets, time, "wrap" if self.padding == "circular" else None, x)
        windows = ops.take(x, steps, axis=1)  # (batch, time, k, c_in)
        width = self.kernel_size * self.c_in
        if not eager:
            # Compiled (jit, tf.function): a 2-D matmul, which XLA differentiates
            # without transposing the (batch * time, d_model) gradient, 2x faster.
            y = contract.matmul(ops.reshape(windows, (-1, width)), self._kernel_matrix(bias_row=False))
            y = ops.reshape(y, (-1, time, self.d_model))
            return ops.add(y, self.conv.bias) if self.use_bias else y
        # Eagerly, one contraction and no reshape of the output (each is a 6 MB
        # copy on JAX). The bias rides in it as a column of ones against a bias
        # row: a separate add is one more pass over the output, 2-3 ms on JAX.
        if not self.use_bias:
            return contract.tensordot(windows, self.conv.kernel, 2)
        windows = ops.pad(ops.reshape(windows, (-1, time, width)), [[0, 0], [0, 0], [0, 1]], constant_values=1)
        return contract.tensordot(windows, self._kernel_matrix(bias_row=True), 1)

    def _rolls_matmul(self, x, time):
        # Eager TensorFlow, where Keras's `take` is seven ops, unless the conv needs neither
        # a separate pad nor a separate bias add ("same", no bias). The windows as rolls of
        # the input side by side (masked where they wrapped, for zero padding), the bias as
        # a column of ones against a bias row, and one matmul of the 3-D windows (Keras's
        # einsum for these subscripts is a bare `tf.matmul`; a reshape to 2-D and back
        # would be two more eager ops).
        left, _ = self._margins()
        parts = [x if j == left else ops.roll(x, left - j, axis=1) for j in range(self.kernel_size)]
        if self.use_bias:
            shape = (x.shape[0], time, 1)
            parts.append(tables.lookup_table(("ones", shape), lambda: np.ones(shape), self.compute_dtype, x))
        windows = ops.concatenate(parts, axis=-1)
        if self.padding != "circular":
            # Zeros where a roll wrapped around; `where`, not a product, so a NaN/Inf
            # there cannot reach an output that does not read it.
            windows = ops.where(self._inside_mask(time, x), windows, 0)
        return ops.einsum("btc,cd->btd", windows, self._kernel_matrix(bias_row=self.use_bias))

    def _inside_mask(self, time, like):
        """`(time, kernel_size * c_in [+ 1])` bools: True where a rolled window reads inside the series."""
        left, _ = self._margins()

        def make():
            source = np.arange(time)[:, None] + np.arange(self.kernel_size) - left  # the step a tap reads
            inside = np.repeat((source >= 0) & (source < time), self.c_in, axis=1)
            return np.concatenate([inside, np.ones((time, int(self.use_bias)), bool)], axis=1)

        key = ("inside", time, self.kernel_size, self.c_in, left, self.use_bias)
        return tables.lookup_table(key, make, "bool", like)

    def _kernel_matrix(self, bias_row):
        """`conv.kernel` as a `(kernel_size * c_in, d_model)` matrix, with the bias as one more row if `bias_row`."""
        kernel = ops.reshape(self.conv.kernel, (self.kernel_size * self.c_in, self.d_model))
        if not bias_row:
            return kernel
        return ops.concatenate([kernel, ops.reshape(self.conv.bias, (1, self.d_model))], axis=0)

    def _eager_conv(self, x):
        # "same" padding only, which the conv pads itself (TF and XLA put (k - 1) // 2
        # zeros first, as ours). Measured per backend (benchmarks/token_paths.py, table
        # in docs/benchmarks.md): eager JAX, and eager TensorFlow without a bias, run it
        # faster than the gather and contraction; with a bias to add, or another padding
        # to build, TensorFlow's rolls are faster. Not on PyTorch: there the conv is
        # faster once malloc's thresholds have risen, but slower in a fresh process (page
        # faults on its new buffers).
        y = ops.conv(x, self.conv.kernel, padding="same")
        return ops.add(y, self.conv.bias) if self.use_bias else y

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
