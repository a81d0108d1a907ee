import keras
from keras import ops

from kerasfactory.layers import lookup_indices, validation
from kerasfactory.layers.sinusoid import shared_table


@keras.saving.register_keras_serializable(package="kerasfactory")
class FixedEmbedding(validation.Layer):
    """Non-trainable lookup into the sinusoid table.

    `y[b, t] = pe[x[b, t]]` with `pe[p, 2i] = sin(p / 10000^(2i/d_model))`,
    `pe[p, 2i+1] = cos(p / 10000^(2i/d_model))` for rows `p = 0..c_in-1`
    (`kerasfactory.layers.sinusoid_table`). The table is a constant computed
    once in float32 (then cast to the compute dtype): never trained, never
    saved as a weight.

    Args:
        c_in: number of rows (valid indices are `0..c_in-1`).
        d_model: embedding size.
        out_of_range: what an index outside `[0, c_in)` means, never NaN:
            `"wrap"` (modulo `c_in`, the default), `"clip"` or `"error"` (as
            `TemporalEmbedding`'s: raises where values are concrete).

    Input shape: `(batch, time)` integer indices, or floats holding integral
    values (non-integral floats raise `ValueError` when concrete).
    Output shape: `(batch, time, d_model)`.

    Example:
    >>> layer = FixedEmbedding(c_in=24, d_model=16)
    >>> tuple(layer(keras.ops.convert_to_tensor([[0, 5, 23]])).shape)
    (1, 3, 16)

    Reference: Zhou et al., "Informer", AAAI 2021 (`FixedEmbedding` in
    Time-Series-Library `layers/Embed.py`).
    """

    def __init__(self, c_in, d_model, out_of_range="wrap", **kwargs):
        super().__init__(**kwargs)
        self.c_in = validation.positive_int("c_in", c_in)
        self.d_model = validation.positive_int("d_model", d_model)
        self.out_of_range = validation.one_of("out_of_range", out_of_range, lookup_indices.OUT_OF_RANGE)

    def call(self, inputs):
        validation.input_shape("inputs", inputs.shape, 2)
        x = lookup_indices.to_int32("inputs", inputs)
        if self.out_of_range == "error":
            lookup_indices.check_range("inputs", x[..., None], [self.c_in])
        x = lookup_indices.apply_policy(x, self.c_in, self.out_of_range)
        # A constant, not a weight: computed once per size (numpy), never saved, never trained.
        table = ops.cast(shared_table(self.c_in, self.d_model), self.compute_dtype)
        return ops.take(table, x, axis=0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(c_in=self.c_in, d_model=self.d_model, out_of_range=self.out_of_range)
        return config
