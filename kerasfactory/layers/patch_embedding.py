import keras
from keras import ops

from kerasfactory.layers import float64_dense, validation
from kerasfactory.layers.positional_embedding import PositionalEmbedding

PADDINGS = ("end", "none")


@keras.saving.register_keras_serializable(package="kerasfactory")
class PatchEmbedding(validation.Layer):
    """Channel-independent patch embedding (PatchTST).

    Each variate's series is padded at the end with `stride` copies of its
    last value (`padding="end"`), cut into windows of `patch_len` steps every
    `stride` steps, and each window is mapped to `d_model` by a bias-free
    linear map, plus the sinusoidal position of the patch:
    `y[b, v, p] = x_pad[b, p*stride : p*stride + patch_len, v] @ W + pe[p]`,
    then dropout.
    `num_patches = (time + pad - patch_len) // stride + 1` with
    `pad = stride` for `padding="end"` and `pad = 0` for `padding=None`
    (or `"none"`: trailing steps that fill no whole window are dropped).

    Args:
        d_model: embedding size.
        patch_len: steps per patch. Defaults to 16.
        stride: steps between patch starts. Defaults to 8.
        padding: `"end"` (the reference) or `None`/`"none"`.
        dropout: dropout rate on the output. Defaults to 0.1.
        seed: optional integer seed of the dropout mask, for training that
            repeats exactly (also on PyTorch, whose unseeded dropout draws
            from the global generator). Defaults to `None`.

    `value_embedding` is a bias-free `keras.layers.Dense(d_model)` initialised
    like PyTorch's `nn.Linear(patch_len, d_model)`; `position_embedding` is
    a `PositionalEmbedding`.

    Input shape: `(batch, time, variates)` with `time >= patch_len`. NaN/Inf
    in a step propagate to the patches that contain it.
    Output shape: `(batch, variates, num_patches, d_model)`. (The reference
    returns `(batch * variates, num_patches, d_model)` and `variates`; reshape
    if you need that layout.)

    Example:
    >>> layer = PatchEmbedding(d_model=32, patch_len=16, stride=8)
    >>> layer(keras.random.normal((2, 96, 7))).shape
    (2, 7, 12, 32)

    Reference: Nie et al., "A Time Series is Worth 64 Words: Long-term
    Forecasting with Transformers", ICLR 2023.
    """

    def __init__(self, d_model, patch_len=16, stride=8, padding="end", dropout=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.d_model = validation.positive_int("d_model", d_model)
        self.patch_len = validation.positive_int("patch_len", patch_len)
        self.stride = validation.positive_int("stride", stride)
        self.padding = validation.one_of("padding", "none" if padding is None else padding, PADDINGS)
        self.dropout_rate = validation.probability("dropout", dropout)
        self.seed = validation.seed("seed", seed)
        self.value_embedding = keras.layers.Dense(
            self.d_model,
            use_bias=False,
            kernel_initializer=keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
            dtype=self.dtype_policy,
            name="value_embedding",
        )
        self.position_embedding = PositionalEmbedding(d_model=self.d_model, dtype=self.dtype_policy)
        self.dropout = keras.layers.Dropout(self.dropout_rate, seed=self.seed, dtype=self.dtype_policy, name="dropout")

    def num_patches(self, time):
        """The number of patches for a series of `time` steps."""
        pad = self.stride if self.padding == "end" else 0
        return (time + pad - self.patch_len) // self.stride + 1

    def _check(self, shape):
        validation.input_shape("inputs", shape, 3)
        if shape[1] is not None and shape[1] < self.patch_len:
            raise ValueError(
                f"`inputs` time length must be >= `patch_len`={self.patch_len}, got {shape[1]} (shape {tuple(shape)})"
            )

    def build(self, input_shape):
        self._check(input_shape)
        self.value_embedding.build((None, None, None, self.patch_len))
        self.position_embedding.build((None, None, self.patch_len))  # no weights; `Model.quantize` wants it built

    def call(self, inputs, training=None):
        self._check(inputs.shape)
        x = ops.cast(inputs, self.compute_dtype)
        time = ops.shape(x)[1]
        # Patch p reads steps p * stride + j; steps past the end read the last one (the end padding).
        starts = ops.arange(self.num_patches(time)) * self.stride
        steps = ops.minimum(starts[:, None] + ops.arange(self.patch_len)[None, :], time - 1)
        patches = ops.take(x, steps, axis=1)  # (batch, num_patches, patch_len, variates)
        position = self.position_embedding(patches)  # (1, num_patches, d_model)
        y = float64_dense.dense(self.value_embedding, ops.transpose(patches, (0, 3, 1, 2))) + position
        return self.dropout(y, training=True) if training else y

    def compute_output_shape(self, input_shape):
        time = input_shape[1]
        count = None if time is None else self.num_patches(time)
        return (input_shape[0], input_shape[2], count, self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(d_model=self.d_model, patch_len=self.patch_len, stride=self.stride, padding=self.padding,
                      dropout=self.dropout_rate, seed=self.seed)
        return config
