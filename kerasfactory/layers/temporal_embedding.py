import keras
import numpy as np

from kerasfactory.freq import check_fields, mark_fields, reference_mark_fields
from kerasfactory.layers import lookup_indices, validation
from kerasfactory.layers.fixed_embedding import FixedEmbedding

EMBED_TYPES = ("fixed", "learned")


@keras.saving.register_keras_serializable(package="kerasfactory")
class TemporalEmbedding(validation.Layer):
    """Sum of per-field embeddings of calendar marks.

    `y = E_month[m] + E_day[d] + E_weekday[w] + E_hour[h] (+ E_minute[q]
    + E_second[s]) + sum_k E_k[c_k]`: column `j` of the marks is looked up in
    the table of field `j`, the standard fields first, as
    `kerasfactory.time_features.marks(dates, freq)` makes them
    (Time-Series-Library `timeenc=0`), then the extra fields `c_k`. The
    standard fields are `kerasfactory.freq.mark_fields(freq)`: month 13,
    day 32, weekday 7, hour 24 rows; minutely `freq` adds a minute table of
    `60 // step` buckets (`'5min'` 12, `'min'` 60; 4 for `'t'`, the reference);
    secondly `freq` adds minute 60 and second 60. Further columns are ignored
    (so the reference's five marks serve hourly data).

    Args:
        d_model: embedding size.
        embed_type: `"fixed"` (sinusoid tables, `FixedEmbedding`, no weights)
            or `"learned"` (`keras.layers.Embedding`, initialised N(0, 1) like
            `torch.nn.Embedding`).
        freq: a frequency code or pandas alias (see
            `kerasfactory.freq.normalize_freq`).
        out_of_range: what a mark outside its table means, the same on every
            backend and never NaN: `"wrap"` (modulo the table size, the
            default), `"clip"` (to the nearest valid value) or `"error"`
            (`ValueError` naming the field, its range and the bad value when
            the values are concrete: eager calls, and all of PyTorch; inside
            compiled functions values cannot be read, and it clips).
        extra_fields: `(name, table size)` pairs of further categorical
            fields (holidays, events: `kerasfactory.time_features.calendar`
            returns them as `spec["extra_fields"]`), read from the columns
            right after the standard fields. Names: distinct identifiers, not
            a standard field.
        fields: the standard `(name, table size)` pairs; `None` (default)
            means `mark_fields(freq)`. Saved in the config, so that a layer
            rebuilds its own tables; configs saved before this key existed
            rebuild the previous release's (minute 4 for `'t'` codes only).

    Sub-layers: `<field>_embed` per field (`month_embed`, ..., the reference
    names, then `holiday_embed` etc.): `Embedding` when learned, weightless
    `FixedEmbedding` when fixed. A call maps each column into its table by
    `out_of_range` and sums the lookups, so what Keras does to an `Embedding`
    (`Model.quantize`, LoRA) applies to the learned tables.

    Input shape: `(batch, time, >= fields)` marks, one column per field
    (4, 5 minutely, 6 secondly, plus the extra fields), integers or floats
    holding integral values (non-integral floats raise `ValueError` when
    concrete; in compiled code they are truncated toward zero).
    Output shape: `(batch, time, d_model)`.

    Example:
    >>> x_mark = keras.random.randint((2, 96, 5), minval=0, maxval=2)
    >>> layer = TemporalEmbedding(d_model=64, extra_fields=[("holiday", 2)])
    >>> tuple(layer(x_mark).shape)
    (2, 96, 64)

    Reference: Zhou et al., "Informer", AAAI 2021 (`TemporalEmbedding` in
    Time-Series-Library `layers/Embed.py`).
    """

    def __init__(
        self, d_model, embed_type="fixed", freq="h", out_of_range="wrap", extra_fields=None, fields=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.d_model = validation.positive_int("d_model", d_model)
        self.embed_type = validation.one_of("embed_type", embed_type, EMBED_TYPES)
        self.freq = getattr(freq, "freqstr", freq)
        self.out_of_range = validation.one_of("out_of_range", out_of_range, lookup_indices.OUT_OF_RANGE)
        self._fields = check_fields("fields", mark_fields(freq) if fields is None else fields, standard=True)
        self.extra_fields = check_fields("extra_fields", extra_fields)
        self._all_fields = self._fields + self.extra_fields  # column j is looked up in field j's table
        for field, size in self._all_fields:
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

    @property
    def input_width(self):
        """The fewest mark columns an input must have: one per field."""
        return len(self._all_fields)

    def _check_shape(self, shape):
        shape = validation.input_shape("inputs", shape, 3)
        if shape[-1] is not None and shape[-1] < self.input_width:
            raise ValueError(
                f"`inputs` last dimension must be >= {self.input_width} (marks "
                f"{[f for f, _ in self._all_fields]} for freq={self.freq!r}), got {shape[-1]}"
            )

    def build(self, input_shape):
        self._check_shape(input_shape)
        for field, _ in self._all_fields:
            getattr(self, f"{field}_embed").build((None, None))

    def call(self, inputs):
        self._check_shape(inputs.shape)
        x = lookup_indices.to_int32("inputs", inputs)[..., : self.input_width]  # further columns are ignored
        sizes = [size for _, size in self._all_fields]
        if self.out_of_range == "error":
            labels = [f"{field!r} (column {column})" for column, (field, _) in enumerate(self._all_fields)]
            lookup_indices.check_range("inputs", x, sizes, labels)
        x = lookup_indices.apply_policy(x, np.asarray(sizes, "int32"), self.out_of_range)
        rows = [getattr(self, f"{field}_embed")(x[..., j]) for j, (field, _) in enumerate(self._all_fields)]
        return sum(rows[1:], rows[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(d_model=self.d_model, embed_type=self.embed_type, freq=self.freq, out_of_range=self.out_of_range)
        config.update(extra_fields=[list(f) for f in self.extra_fields], fields=[list(f) for f in self._fields])
        return config

    @classmethod
    def from_config(cls, config):
        if "fields" not in config:  # saved before `fields` was in the config: the reference's fields
            config = {**config, "fields": reference_mark_fields(config.get("freq", "h"))}
        return super().from_config(config)
