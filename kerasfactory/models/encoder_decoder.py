"""The encoder-decoder Transformer of Time-Series-Library (`models/Transformer.py`): a decoder with a label start."""

import keras

from kerasfactory.freq import FREQ_WIDTH, normalize_freq, reference_mark_fields
from kerasfactory.layers import DataEmbedding, validation
from kerasfactory.models import common
from kerasfactory.models.encoder import decoder_blocks, encoder_blocks

EMBED_TYPES = ("timeF", "fixed", "learned")


def mark_width(embed_type, freq):
    """Columns of the marks Time-Series-Library feeds with `embed_type` at `freq`: the timeF features
    (`FREQ_WIDTH`), or the integer calendar fields month, day, weekday, hour (and minute for `'t'`)."""
    if embed_type == "timeF":
        return FREQ_WIDTH[normalize_freq(freq)]
    return len(reference_mark_fields(freq))


def build_encoder_decoder_transformer(
    *, seq_len, label_len, pred_len, n_vars, freq="h", seed=None, dec_vars=None, out_vars=None,
    embed_type="timeF", d_model=64, n_heads=4, n_layers=2, n_dec_layers=1, d_ff=128, dropout=0.1,
    activation="gelu",
):
    """The vanilla encoder-decoder Transformer forecaster, as Time-Series-Library builds it.

    `m = Encoder(DataEmbedding(x_enc, x_mark_enc))` over the `seq_len` past
    steps (post-norm blocks, a final LayerNorm);
    `h = Decoder(DataEmbedding(x_dec, x_mark_dec), m)` over the
    `label_len + pred_len` decoder steps: causal self-attention, then
    cross-attention to `m` and a feed-forward, per block (`decoder_blocks`),
    and a final LayerNorm; `y = Dense(out_vars)(h)[:, label_len:]`, the last
    `pred_len` steps. Each `DataEmbedding` is Time-Series-Library's: a
    circular kernel-3 convolution without bias, sinusoidal positions and the
    calendar term (`embed_type`). No normalisation of the series (the
    reference has none). Time-Series-Library fills `x_dec` with the last
    `label_len` known values followed by `pred_len` zeros, and `x_mark_dec`
    with those steps' marks.

    Unlike `build_transformer` (an encoder over time with RevIN and a linear
    head, `kerasfactory.models.common`'s inputs), this model takes the
    reference's four inputs and is not one of `MODELS`: the `Forecaster`
    does not feed `x_dec`. `kerasfactory.interop.from_tslib("Transformer", ...)` builds it.

    Args:
        seq_len, label_len, pred_len: encoder length, decoder start length
            (>= 0) and forecast length.
        n_vars: encoder input variates (the reference's `enc_in`).
        freq: frequency code or pandas alias of the marks.
        seed: seeds every dropout mask (`None`: unseeded).
        dec_vars: decoder input variates (`dec_in`). Defaults to `n_vars`.
        out_vars: output variates (`c_out`). Defaults to `n_vars`.
        embed_type: "timeF" (default; `mark_width` real features), "fixed" or
            "learned" (integer month, day, weekday, hour (, minute) marks,
            Time-Series-Library's tables).
        d_model: token size. Defaults to 64.
        n_heads: attention heads. Defaults to 4.
        n_layers: encoder blocks (`e_layers`). Defaults to 2.
        n_dec_layers: decoder blocks (`d_layers`). Defaults to 1.
        d_ff: feed-forward width. Defaults to 128.
        dropout: dropout rate everywhere. Defaults to 0.1.
        activation: of the feed-forward layers. Defaults to "gelu".

    Inputs, in order: `x_enc` `(batch, seq_len, n_vars)`, `x_mark_enc`
    `(batch, seq_len, marks)`, `x_dec` `(batch, label_len + pred_len, dec_vars)`,
    `x_mark_dec` `(batch, label_len + pred_len, marks)`, `marks = mark_width(embed_type, freq)`.
    Output: `(batch, pred_len, out_vars)`. Returns an uncompiled `keras.Model`.

    Example:
    >>> model = build_encoder_decoder_transformer(seq_len=48, label_len=24, pred_len=12, n_vars=3, d_model=16)
    >>> [tuple(t.shape) for t in model.inputs], model.output.shape
    ([(None, 48, 3), (None, 48, 4), (None, 36, 3), (None, 36, 4)], (None, 12, 3))

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017;
    Zhou et al., "Informer", AAAI 2021 (the embedding, the label start).
    """
    seq_len, pred_len, n_vars = common.positive_ints(seq_len=seq_len, pred_len=pred_len, n_vars=n_vars)
    label_len = validation.non_negative_int("label_len", label_len)
    dec_vars, out_vars = common.positive_ints(
        dec_vars=n_vars if dec_vars is None else dec_vars, out_vars=n_vars if out_vars is None else out_vars
    )
    embed_type = validation.one_of("embed_type", embed_type, EMBED_TYPES)
    d_model, n_heads, n_layers, n_dec_layers, d_ff = common.positive_ints(
        d_model=d_model, n_heads=n_heads, n_layers=n_layers, n_dec_layers=n_dec_layers, d_ff=d_ff
    )
    dropout = validation.probability("dropout", dropout)
    activation = common.check_activation(activation)
    marks, steps = mark_width(embed_type, freq), label_len + pred_len
    seeds = common.seeds(seed)
    x_enc, x_mark_enc = keras.Input((seq_len, n_vars), name="x_enc"), keras.Input((seq_len, marks), name="x_mark_enc")
    x_dec, x_mark_dec = keras.Input((steps, dec_vars), name="x_dec"), keras.Input((steps, marks), name="x_mark_dec")
    calendar = {} if embed_type == "timeF" else {"fields": reference_mark_fields(freq)}

    def embedding(c_in, name):
        return DataEmbedding(c_in, d_model, embed_type=embed_type, freq=freq, dropout=dropout, seed=next(seeds),
                             padding="circular", use_bias=False, name=name, **calendar)

    blocks = dict(n_heads=n_heads, d_ff=d_ff, dropout=dropout, activation=activation, seeds=seeds)
    memory = encoder_blocks(embedding(n_vars, "enc_embedding")(x_enc, x_mark_enc), n_layers=n_layers, **blocks)
    h = decoder_blocks(embedding(dec_vars, "dec_embedding")(x_dec, x_mark_dec), memory, n_layers=n_dec_layers,
                       **blocks)
    y = keras.layers.Dense(out_vars, name="projection")(h)
    y = keras.layers.Cropping1D((label_len, 0), name="forecast_steps")(y)
    return keras.Model([x_enc, x_mark_enc, x_dec, x_mark_dec], y, name="encoder_decoder_transformer")
