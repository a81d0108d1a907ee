import keras
import numpy as np

from kerasfactory.freq import normalize_freq
from kerasfactory.layers import lookup_indices, validation
from kerasfactory.layers.fixed_embedding import FixedEmbedding

EMBED_TYPES = ("fixed", "learned")
# (field, table size) in mark-column order: the Time-Series-Library sizes.
FIELDS = (("month", 13), ("day", 32), ("weekday", 7), ("hour", 24), ("minute", 4))


@keras.saving.register_keras_serializable(package="kerasfactory")
class TemporalEmbedding(validation.Layer):
    """Sum of per-field embeddings of calendar marks.

    `y = E_month[m] + E_day[d] + E_weekday[w] + E_hour[h] (+ E_minute[q])`
    for marks `[month, day, weekday, hour, minute // 15]` per step, as
    `kerasfactory.time_features.marks` makes them (Time-Series-Library
    `timeenc=0`). Table sizes: month 13, day 32, weekday 7, hour 24, minute 4.
    The minute field is used only when `freq` means minutely (`'t'`,
    `'15min'`, ...), as in the reference; for other frequencies a fifth column
    is ignored.

    Args:
        d_model: embedding size.
        embed_type: `"fixed"` (sinusoid tables, `FixedEmbedding`, no weights)
            or `"learned"` (`keras.layers.Embedding`, initialised N(0, 1) like
            `torch.nn.Embedding`).
        freq: a frequency code or pandas alias (see
            `kerasfactory.freq.normalize_freq`).
        out_of_range: what a mark outside its table means, identical on every
            backend and never NaN: `"wrap"` (modulo the table size, the
            default), `"clip"` (to the nearest valid value) or `"error"`
            (`ValueError` naming the field, its valid range and the bad value
            whenever the values are concrete: eager calls, and everything on
            the PyTorch backend, which runs eagerly). Inside compiled functions
            (`jax.jit`, `tf.function`, `predict`/`fit` on JAX and TensorFlow)
            values cannot be inspected, and `"error"` clips. Where values are
            concrete, `"error"` and float marks read back a few booleans per
            call (a device sync); integer marks with `"wrap"`/`"clip"` never do.

    Sub-layers: `month_embed`, `day_embed`, `weekday_embed`, `hour_embed` and,
    for minutely `freq`, `minute_embed` (the reference names): `Embedding`
    layers when learned, weightless `FixedEmbedding` layers when fixed. A
    call maps each column into its table by `out_of_range` and sums the
    sub-layers' lookups, so what Keras does to an `Embedding`
    (`Model.quantize`, LoRA) applies to the learned tables.

    Input shape: `(batch, time, >=4)` marks (`>=5` for minutely `freq`),
    integers or floats holding integral values (non-integral floats raise
    `ValueError` when concrete; in compiled code they are truncated toward zero).
    Output shape: `(batch, time, d_model)`.

    Example:
    >>> x_mark = keras.random.randint((2, 96, 5), minval=0, maxval=24)
    >>> tuple(TemporalEmbedding(d_model=64)(x_mark).shape)
    (2, 96, 64)

    Reference: Zhou et al., "Informer", AAAI 2021 (`TemporalEmbedding` in
    Time-Series-Library `layers/Embed.py`).
    """

    def __init__(self, d_model, embed_type="fixed", freq="h", out_of_range="wrap", **kwargs):
        super().__init__(**kwargs)
        self.d_model = validation.positive_int("d_model", d_model)
        self.embed_type = validation.one_of("embed_type", embed_type, EMBED_TYPES)
        self.freq = getattr(freq, "freqstr", freq)
        self.out_of_range = validation.one_of("out_of_range", out_of_range, lookup_indices.OUT_OF_RANGE)
        self._fields = FIELDS if normalize_freq(freq) == "t" else FIELDS[:4]
        for field, size in self._fields:
            if self.embed_type == "fixed":
                embed = FixedEmbedding(size, self.d_model, dtype=self.dtype_policy, name=f"{field}_embed")
            else:
                embed = keras.layers.Embedding(
                    size,
                    self.d_model,
                    embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),  # as torch.nn.Embedding
                    dtype=self.dtype_policy,
                    name=f"{field}_embed",
                )
            setattr(self, f"{field}_embed", embed)

    def _lookups(self):
        """The per-field sub-layers, in mark-column order."""
        return [getattr(self, f"{field}_embed") for field, _ in self._fields]

    def _check_shape(self, shape):
        shape = validation.input_shape("inputs", shape, 3)
        width = len(self._fields)
        if shape[-1] is not None and shape[-1] < width:
            raise ValueError(
                f"`inputs` last dimension must be >= {width} (marks "
                f"{[field for field, _ in self._fields]} for freq={self.freq!r}), got {shape[-1]}"
            )

    def build(self, input_shape):
        self._check_shape(input_shape)
        for embed in self._lookups():
            embed.build((None, None))

    def call(self, inputs):
        self._check_shape(inputs.shape)
        # The fields are the first columns, in table order; further columns are ignored.
        x = lookup_indices.to_int32("inputs", inputs)[..., : len(self._fields)]
        sizes = [size for _, size in self._fields]
        if self.out_of_range == "error":
            labels = [f"{field!r} (column {column})" for column, (field, _) in enumerate(self._fields)]
            lookup_indices.check_range("inputs", x, sizes, labels)
        x = lookup_indices.apply_policy(x, np.asarray(sizes, "int32"), self.out_of_range)
        rows = [embed(x[..., column]) for column, embed in enumerate(self._lookups())]
        return sum(rows[1:], rows[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(d_model=self.d_model, embed_type=self.embed_type, freq=self.freq, out_of_range=self.out_of_range)
        return config
