import functools

import keras
import numpy as np
from keras import ops

from kerasfactory.layers import base, checks, indices, tables
from kerasfactory.layers.fixed_embedding import FixedEmbedding
from kerasfactory.layers.freq import normalize_freq
from kerasfactory.layers.sinusoid import shared_table

EMBED_TYPES = ("fixed", "learned")
# (field, column in the marks, table size): the Time-Series-Library sizes.
FIELDS = (("month", 0, 13), ("day", 1, 32), ("weekday", 2, 7), ("hour", 3, 24), ("minute", 4, 4))

# Fields looked up together: each group has a table of sums over its fields
# (month+day: 416 rows; weekday+hour[+minute]: 168 or 672 rows), stacked into
# one table, so a call is one lookup of a row per group and a sum over groups.
GROUPS = ((0, 2), (2, None))


def _outer_sum(tables, reshape):
    """Row `i * len(b) + j` holds `a[i] + b[j]` (and so on for further tables)."""
    return functools.reduce(lambda a, b: reshape(a[:, None] + b[None], (-1, b.shape[-1])), tables)


@functools.lru_cache(maxsize=16)
def _row_weights(sizes, width):
    """int32 `(groups, 1, 1, width)` weights and `(groups, 1, 1)` offsets for marks of the
    field `sizes` (and weight 0 for further columns): a step's row in the stacked table
    for group `g` is `sum(marks * weights[g]) + offsets[g]`, the group's fields as
    mixed-radix digits after the rows of the groups before it."""
    weights, offsets = np.zeros((len(GROUPS), 1, 1, width), "int32"), np.zeros((len(GROUPS), 1, 1), "int32")
    for g, (start, stop) in enumerate(GROUPS):
        stop = stop or len(sizes)
        weights[g, ..., start:stop] = [np.prod(sizes[j + 1 : stop]) for j in range(start, stop)]
        offsets[g + 1 :] += np.prod(sizes[start:stop])
    return weights, offsets


@functools.lru_cache(maxsize=16)
def _fixed_table(sizes, d_model):
    table = np.concatenate(
        [_outer_sum([shared_table(size, d_model) for size in sizes[start:stop]], np.reshape) for start, stop in GROUPS]
    )
    table.flags.writeable = False
    return table


def _whole_table(embed):
    """Every row of a `keras.layers.Embedding`: its weights, or its own lookup of all rows once
    `Model.quantize` has made them int8 values and scales."""
    if embed.quantization_mode is None:
        return embed.embeddings
    return embed(ops.arange(embed.input_dim))


@keras.saving.register_keras_serializable(package="kerasfactory")
class TemporalEmbedding(base.Layer):
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
            `kerasfactory.layers.freq.normalize_freq`).
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
    layers when learned, weightless `FixedEmbedding` layers (made on first
    access) when fixed.

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
        self.d_model = checks.positive_int("d_model", d_model)
        self.embed_type = checks.one_of("embed_type", embed_type, EMBED_TYPES)
        self._code = normalize_freq(freq)
        self.freq = getattr(freq, "freqstr", freq)
        self.out_of_range = checks.one_of("out_of_range", out_of_range, indices.OUT_OF_RANGE)
        self._fields = FIELDS if self._code == "t" else FIELDS[:4]
        sizes = [size for _, _, size in self._fields]
        self._sizes = np.asarray(sizes, "int32")
        if self.embed_type == "learned":
            for field, _, size in self._fields:
                embed = keras.layers.Embedding(
                    size,
                    self.d_model,
                    embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
                    dtype=self.dtype_policy,
                    name=f"{field}_embed",
                )
                setattr(self, f"{field}_embed", embed)

    def __getattr__(self, name):
        # Fixed sub-layers hold no weights and `call` does not use them, so each is made
        # on first access and left untracked: constructing four Keras layers would be
        # 1-2 ms of every `TemporalEmbedding(...)` (benchmarks/embeddings.py).
        state = self.__dict__
        if name.endswith("_embed") and state.get("embed_type") == "fixed":
            sizes = {f"{field}_embed": size for field, _, size in state.get("_fields", ())}
            if name in sizes:
                embed = FixedEmbedding(sizes[name], self.d_model, dtype=self.dtype_policy, name=name)
                object.__setattr__(self, name, embed)
                return embed
        parent = getattr(super(), "__getattr__", None)  # torch.nn.Module's, on PyTorch
        if parent is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return parent(name)

    def build(self, input_shape):
        self._check_shape(input_shape)
        if self.embed_type == "learned":
            for field, _, _ in self._fields:
                getattr(self, f"{field}_embed").build((None, None))

    def _check_shape(self, shape):
        shape = checks.input_shape("inputs", shape, 3)
        width = len(self._fields)
        if shape[-1] is not None and shape[-1] < width:
            raise ValueError(
                f"`inputs` last dimension must be >= {width} (marks "
                f"{[f for f, _, _ in self._fields]} for freq={self.freq!r}), got {shape[-1]}"
            )

    def _table(self, like):
        if self.embed_type == "fixed":
            key = ("temporal", tuple(self._sizes.tolist()), self.d_model)
            return tables.lookup_table(key, lambda: _fixed_table(*key[1:]), self.compute_dtype, like)
        learned = [ops.cast(_whole_table(getattr(self, f"{f}_embed")), self.compute_dtype) for f, _, _ in self._fields]
        return ops.concatenate([_outer_sum(learned[start:stop], ops.reshape) for start, stop in GROUPS], axis=0)

    def call(self, inputs):
        rows = self._rows(inputs)
        return self._lookup_bodies(self._table(rows), rows)[self._lookup_path()]()

    def _rows(self, inputs):
        """int32 `(groups, batch, time)`: each step's row of each group in the stacked table."""
        self._check_shape(inputs.shape)
        # The fields are the first columns, in table order.
        x = indices.to_int32("inputs", inputs)
        sizes = self._sizes
        if self.out_of_range == "error" or x.shape[-1] is None:
            x = x[..., : len(sizes)]
        else:
            # Further columns get size 1 and weight 0 rather than being sliced off:
            # a column slice is one of the costliest eager ops on TensorFlow.
            sizes = np.pad(sizes, (0, x.shape[-1] - len(sizes)), constant_values=1)
        if self.out_of_range == "error":
            labels = [f"{field!r} (column {column})" for field, column, _ in self._fields]
            indices.check_range("inputs", x, sizes.tolist(), labels)
        # Backend constants made once per column layout, not converted from numpy every call.
        key = ("temporal_rows", tuple(sizes.tolist()))
        sizes, weights, offsets = (
            tables.lookup_table((*key, i), lambda a=a: a, "int32", x)
            for i, a in enumerate((sizes, *_row_weights(tuple(self._sizes.tolist()), len(sizes))))
        )
        x = indices.apply_policy(x, sizes, self.out_of_range)
        return ops.sum(x * weights, axis=-1) + offsets

    def _lookup_bodies(self, table, rows):
        """Both ways to sum each step's two rows of `table`, by name, equal; `call` runs the faster."""
        return {
            "one_lookup": lambda: ops.add(*ops.unstack(ops.take(table, rows, axis=0))),
            "per_group": lambda: ops.add(*(ops.take(table, r, axis=0) for r in ops.unstack(rows))),
        }

    def _lookup_path(self):
        """The faster lookup on this backend (benchmarks/temporal_paths.py): on TensorFlow one
        lookup of both rows, as Keras's TensorFlow `take` adds five index ops to each lookup;
        elsewhere a lookup per group, as eager JAX splits or sums a stacked lookup in
        milliseconds (XLA's kernels for a leading axis of 2) and PyTorch measured slower with it.
        """
        return "one_lookup" if keras.backend.backend() == "tensorflow" else "per_group"

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "d_model": self.d_model,
                "embed_type": self.embed_type,
                "freq": self.freq,
                "out_of_range": self.out_of_range,
            }
        )
        return config
