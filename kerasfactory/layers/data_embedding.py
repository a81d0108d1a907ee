import inspect

import keras

from kerasfactory.freq import FREQ_WIDTH, normalize_freq, reference_mark_fields
from kerasfactory.layers import validation
from kerasfactory.layers.positional_embedding import PositionalEmbedding
from kerasfactory.layers.temporal_embedding import TemporalEmbedding
from kerasfactory.layers.time_feature_embedding import TimeFeatureEmbedding
from kerasfactory.layers.token_embedding import TokenEmbedding

EMBED_TYPES = ("fixed", "learned", "timeF")
# The keyword arguments that go to TokenEmbedding; the rest go to keras.layers.Layer.
TOKEN_ARGS = tuple(
    p for p in inspect.signature(TokenEmbedding.__init__).parameters if p not in ("self", "c_in", "d_model", "kwargs")
)


@keras.saving.register_keras_serializable(package="kerasfactory")
class DataEmbedding(validation.Layer):
    """Value + position + calendar embedding of a multivariate series.

    `y = dropout(TokenEmbedding(x) + PositionalEmbedding(x) + T(x_mark))`,
    where `T` is `TemporalEmbedding(embed_type, freq, extra_fields)` for
    `"fixed"` and `"learned"`, and `TimeFeatureEmbedding(freq,
    extra_columns)` for `"timeF"`. Without marks (`x_mark=None`) the
    calendar term is left out.
    `DataEmbeddingWithoutPosition` is the same layer without the position term.

    Args:
        c_in: number of variates.
        d_model: embedding size.
        embed_type: `"fixed"`, `"learned"` or `"timeF"`.
        freq: frequency code or pandas alias of the marks (`"h"`, `"15min"`, ...).
        dropout: dropout rate on the sum. Defaults to 0.1.
        max_len: the longest sequence the position table covers.
        seed: optional integer seed of the dropout mask, for training that
            repeats exactly (also on PyTorch, whose unseeded dropout draws
            from the global generator). Defaults to `None`.
        extra_fields, fields: `"fixed"`/`"learned"` only, passed to
            `TemporalEmbedding` (categorical covariates such as holidays).
        extra_columns: `"timeF"` only, passed to `TimeFeatureEmbedding`
            (continuous covariate columns after the timeF features).
        **token_kwargs: passed to `TokenEmbedding` (`kernel_size`, `padding`,
            `use_bias`, initializers); `padding="circular", use_bias=False` is
            the Time-Series-Library layer. Other keywords go to `keras.layers.Layer`.

    Sub-layers: `value_embedding`, `position_embedding` (`None` without
    position), `temporal_embedding`, `dropout`.

    Input shapes: `x` `(batch, time, c_in)`; optional `x_mark`
    `(batch, time, mark_columns)`: integer marks for fixed/learned, timeF
    features (and `extra_columns` covariates) for "timeF".
    Output shape: `(batch, time, d_model)`. NaN/Inf in `x` propagate to the
    outputs that read them; marks must be finite (see `TemporalEmbedding`).

    Example:
    >>> layer = DataEmbedding(c_in=7, d_model=64)
    >>> x_mark = keras.random.randint((2, 96, 4), minval=0, maxval=7)
    >>> layer(keras.random.normal((2, 96, 7)), x_mark).shape
    (2, 96, 64)

    Reference: Zhou et al., "Informer", AAAI 2021 (`DataEmbedding` in
    Time-Series-Library `layers/Embed.py`); Wu et al., "Autoformer",
    NeurIPS 2021 (`DataEmbedding_wo_pos`).
    """

    _use_position = True

    def __init__(self, c_in, d_model, embed_type="fixed", freq="h", dropout=0.1, max_len=5000, seed=None,
                 extra_fields=None, extra_columns=0, fields=None, **kwargs):
        token_kwargs = {k: kwargs.pop(k) for k in TOKEN_ARGS if k in kwargs}
        super().__init__(**kwargs)
        self.c_in = validation.positive_int("c_in", c_in)
        self.d_model = validation.positive_int("d_model", d_model)
        self.embed_type = validation.one_of("embed_type", embed_type, EMBED_TYPES)
        self.freq = getattr(freq, "freqstr", freq)
        self.extra_columns = validation.non_negative_int("extra_columns", extra_columns)
        self.dropout_rate = validation.probability("dropout", dropout)
        self.max_len = validation.positive_int("max_len", max_len)
        self.seed = validation.seed("seed", seed)
        policy = self.dtype_policy
        self.value_embedding = TokenEmbedding(self.c_in, self.d_model, dtype=policy, name="value_embedding",
                                              **token_kwargs)
        self.position_embedding = None
        if self._use_position:
            self.position_embedding = PositionalEmbedding(self.max_len, d_model=self.d_model, dtype=policy,
                                                          name="position_embedding")
        calendar = {"dtype": policy, "name": "temporal_embedding"}
        if self.embed_type == "timeF":
            for name, value in (("extra_fields", extra_fields), ("fields", fields)):
                if value:
                    raise ValueError(f"`{name}` must be None with embed_type='timeF' (timeF covariates are "
                                     f"`extra_columns`), got {value!r}")
            self.temporal_embedding = TimeFeatureEmbedding(self.d_model, freq, extra_columns=self.extra_columns,
                                                           **calendar)
            self._mark_width = FREQ_WIDTH[normalize_freq(freq)] + self.extra_columns
        else:
            if self.extra_columns:
                raise ValueError(f"`extra_columns` must be 0 with embed_type={self.embed_type!r} (covariate marks "
                                 f"are `extra_fields`), got {self.extra_columns}")
            self.temporal_embedding = TemporalEmbedding(self.d_model, self.embed_type, freq, extra_fields=extra_fields,
                                                        fields=fields, **calendar)
            self._mark_width = None
        self.dropout = keras.layers.Dropout(self.dropout_rate, seed=self.seed, dtype=policy, name="dropout")

    def _check(self, x_shape, x_mark_shape):
        validation.input_shape("x", x_shape, 3, self.c_in, "c_in")
        if self.position_embedding is not None and x_shape[1] is not None and x_shape[1] > self.max_len:
            raise ValueError(f"`x` time length must be <= `max_len`={self.max_len}, got {x_shape[1]}")
        if x_mark_shape is not None:
            what = "the timeF width of freq" + (" + extra_columns" if self.extra_columns else "")
            validation.input_shape("x_mark", x_mark_shape, 3, self._mark_width, what)
            for axis, what in ((1, "time length"), (0, "batch size")):
                if None not in (x_shape[axis], x_mark_shape[axis]) and x_shape[axis] != x_mark_shape[axis]:
                    raise ValueError(
                        f"`x_mark` {what} must equal that of `x` ({x_shape[axis]}), got {x_mark_shape[axis]}"
                    )

    def build(self, x_shape, x_mark_shape=None):
        self._check(x_shape, x_mark_shape)
        self.value_embedding.build(x_shape)
        if self.position_embedding is not None:
            self.position_embedding.build(x_shape)  # no weights, but Keras's `Model.quantize` wants it built
        # Built even without marks, so weights (and saved files) do not depend on the first call.
        self.temporal_embedding.build(x_mark_shape or (None, None, self._mark_width))

    def call(self, x, x_mark=None, training=None):
        self._check(x.shape, None if x_mark is None else x_mark.shape)
        out = self.value_embedding(x)
        if self.position_embedding is not None:
            out = out + self.position_embedding(x)
        if x_mark is not None:
            out = out + self.temporal_embedding(x_mark)
        return self.dropout(out, training=training)

    def compute_output_shape(self, x_shape, x_mark_shape=None):
        return (*tuple(x_shape)[:2], self.d_model)

    def get_config(self):
        config = super().get_config()
        token = self.value_embedding.get_config()
        config.update(c_in=self.c_in, d_model=self.d_model, embed_type=self.embed_type, freq=self.freq,
                      dropout=self.dropout_rate, max_len=self.max_len, seed=self.seed, extra_columns=self.extra_columns,
                      **{k: token[k] for k in TOKEN_ARGS})
        if self.embed_type != "timeF":  # the calendar tables, so that a file rebuilds its own
            temporal = self.temporal_embedding.get_config()
            config.update(extra_fields=temporal["extra_fields"], fields=temporal["fields"])
        return config

    @classmethod
    def from_config(cls, config):
        if config.get("embed_type", "fixed") != "timeF" and "fields" not in config:  # saved before `fields` existed
            config = {**config, "fields": reference_mark_fields(config.get("freq", "h"))}
        return super().from_config(config)


@keras.saving.register_keras_serializable(package="kerasfactory")
class DataEmbeddingWithoutPosition(DataEmbedding):
    """`DataEmbedding` without the position term: value + calendar, then dropout.

    `y = dropout(TokenEmbedding(x) + T(x_mark))`; the arguments, sub-layers
    and shapes are `DataEmbedding`'s (`position_embedding` is `None`).

    Example:
    >>> layer = DataEmbeddingWithoutPosition(c_in=7, d_model=64, embed_type="timeF")
    >>> layer(keras.random.normal((2, 96, 7)), keras.random.normal((2, 96, 4))).shape
    (2, 96, 64)

    Reference: Wu et al., "Autoformer", NeurIPS 2021 (`DataEmbedding_wo_pos`
    in Time-Series-Library `layers/Embed.py`).
    """

    _use_position = False
