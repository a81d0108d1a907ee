"""The encoder block every model here shares, the Transformer's cross-attention block and the
encoder-decoder Transformer's decoder blocks, from Keras layers."""

import itertools

import keras

from kerasfactory.layers import validation


def encoder_blocks(
    h, *, n_layers, n_heads, d_ff, dropout, activation="gelu", attention_axes=None, seeds=None,
    final_norm="layer", name="encoder",
):
    """Applies `n_layers` post-norm Transformer encoder blocks to `h`.

    Each block is `h = LN(h + Dropout(MHA(h, h)))` then
    `h = LN(h + Dropout(Dense(d_model)(Dropout(act(Dense(d_ff)(h))))))`, the
    Time-Series-Library `EncoderLayer` (Vaswani et al., 2017), followed by a
    final normalisation as its `Encoder` has: `LayerNormalization`, or with
    `final_norm="batch"` a `BatchNormalization` over the last axis (TSLib's
    PatchTST; momentum and epsilon as torch's `BatchNorm1d`).

    Args:
        h: a symbolic tensor `(batch, tokens, d_model)`, or
            `(batch, groups, tokens, d_model)` with `attention_axes=(2,)` to
            attend within each group (e.g. each variate's patches).
        n_layers, n_heads, d_ff, dropout, activation: the block's sizes.
        attention_axes: passed to `keras.layers.MultiHeadAttention`.
        seeds: an iterator of dropout seeds (`common.seeds`); `None` leaves
            them unseeded.
        final_norm: "layer" or "batch", the normalisation after the last block.
        name: prefix of the layer names.

    Returns:
        A symbolic tensor shaped like `h`.

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    """
    seeds = itertools.repeat(None) if seeds is None else seeds
    validation.one_of("final_norm", final_norm, ("layer", "batch"))
    for i in range(n_layers):
        h = _block(h, h, n_heads, d_ff, dropout, activation, attention_axes, seeds, f"{name}_{i}")
    if final_norm == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_norm")(h)
    return keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm")(h)


def cross_attention_block(q, memory, *, n_heads, d_ff, dropout, activation="gelu", seeds=None, name="decoder"):
    """One post-norm cross-attention block: the queries `q` read `memory`.

    `q = LN(q + Dropout(MHA(q, memory, memory)))` then
    `q = LN(q + Dropout(Dense(d_model)(Dropout(act(Dense(d_ff)(q))))))`: the
    cross-attention half and feed-forward of a Transformer decoder layer
    (Vaswani et al., 2017), without the queries' self-attention.

    Args:
        q: a symbolic tensor `(batch, queries, d_model)`.
        memory: a symbolic tensor `(batch, tokens, d_model)` (the encoder output).
        n_heads, d_ff, dropout, activation: the block's sizes.
        seeds: an iterator of dropout seeds (`common.seeds`); `None` leaves them unseeded.
        name: prefix of the layer names.

    Returns:
        A symbolic tensor shaped like `q`.

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    """
    seeds = itertools.repeat(None) if seeds is None else seeds
    return _block(q, memory, n_heads, d_ff, dropout, activation, None, seeds, name)


def decoder_blocks(
    h, memory, *, n_layers, n_heads, d_ff, dropout, activation="gelu", seeds=None, name="decoder",
):
    """Applies `n_layers` post-norm Transformer decoder blocks to `h`, reading `memory`, then a LayerNorm.

    Each block is `h = LN(h + Dropout(MHA(h, h, causal)))` (step `t` attends to
    steps `<= t`), then `cross_attention_block(h, memory)`:
    `h = LN(h + Dropout(MHA(h, memory)))`, `h = LN(h + Dropout(FF(h)))`; a
    final `LayerNormalization` follows the last block. Time-Series-Library's
    `DecoderLayer` and `Decoder` (Vaswani et al., 2017).

    Args:
        h: a symbolic tensor `(batch, steps, d_model)`, the decoder tokens.
        memory: a symbolic tensor `(batch, tokens, d_model)` (the encoder output).
        n_layers, n_heads, d_ff, dropout, activation: the block's sizes.
        seeds: an iterator of dropout seeds (`common.seeds`); `None` leaves them unseeded.
        name: prefix of the layer names: block `i`'s self-attention is
            `{name}_{i}_self_attention` (normalised by `{name}_{i}_self_norm`),
            its cross-attention block `{name}_{i}_*` (`cross_attention_block`),
            the final norm `{name}_norm`.

    Returns:
        A symbolic tensor shaped like `h`.

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    """
    seeds = itertools.repeat(None) if seeds is None else seeds
    for i in range(n_layers):
        prefix = f"{name}_{i}"
        names = (f"{prefix}_self_attention", f"{prefix}_self_drop", f"{prefix}_self_add", f"{prefix}_self_norm")
        h = _attend(h, h, n_heads, dropout, None, seeds, names, causal=True)
        h = _block(h, memory, n_heads, d_ff, dropout, activation, None, seeds, prefix)
    return keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm")(h)


def _attend(q, memory, n_heads, dropout, attention_axes, seeds, names, causal=False):
    """`q = LN(q + Dropout(MHA(q, memory)))` (causal: step `t` attends to steps `<= t`); `names` of the
    attention, dropout, add and norm layers, in that order."""
    d_model = q.shape[-1]
    attention, drop, add, norm = names
    attn = keras.layers.MultiHeadAttention(
        n_heads,
        max(1, d_model // n_heads),
        dropout=dropout,
        attention_axes=attention_axes,
        seed=next(seeds),
        name=attention,
    )(q, memory, **({"use_causal_mask": True} if causal else {}))  # the encoders' saved configs stay as they were
    attn = keras.layers.Dropout(dropout, seed=next(seeds), name=drop)(attn)
    q = keras.layers.Add(name=add)([q, attn])
    return keras.layers.LayerNormalization(epsilon=1e-5, name=norm)(q)


def _block(q, memory, n_heads, d_ff, dropout, activation, attention_axes, seeds, name):
    """`q = LN(q + Dropout(MHA(q, memory)))`, then `q = LN(q + Dropout(FF(q)))`; layers named `name_*`."""
    d_model = q.shape[-1]
    names = (f"{name}_attention", f"{name}_attn_drop", f"{name}_attn_add", f"{name}_norm1")
    q = _attend(q, memory, n_heads, dropout, attention_axes, seeds, names)
    f = keras.layers.Dense(d_ff, activation=activation, name=f"{name}_ff1")(q)
    f = keras.layers.Dropout(dropout, seed=next(seeds), name=f"{name}_ff_drop")(f)
    f = keras.layers.Dense(d_model, name=f"{name}_ff2")(f)
    f = keras.layers.Dropout(dropout, seed=next(seeds), name=f"{name}_out_drop")(f)
    q = keras.layers.Add(name=f"{name}_ff_add")([q, f])
    return keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm2")(q)
