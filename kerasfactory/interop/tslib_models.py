"""Each Time-Series-Library model as a kerasfactory one: its builder call and its state-dict table.

`ARCHITECTURES[name](args)` builds the Keras model for TSLib's `args`
(already checked, `kerasfactory.interop.tslib`) and returns it with its
table `{state-dict key: entry}` (`kerasfactory.interop.tslib_tables`).
Where TSLib differs from our builders' defaults, the options below follow TSLib:

- iTransformer: RevIN without affine parameters (`revin_affine=False`), no
  residual; the marks are tokens, as TSLib's `DataEmbedding_inverted`.
- PatchTST: no RevIN affine, BatchNorm after the encoder (`final_norm="batch"`),
  head dropout on the forecast (`head_dropout_position="after"`) at `dropout`;
  the head's kernel is reordered (TSLib flattens `d_model` before patches).
- DLinear: as `build_dlinear`; `individual` stacks the per-variate Linears.
- TimeMixer: `build_timemixer(mark_order="tslib")`: TSLib tiles a batch's marks
  across its variates out of order (`x_mark.repeat(N, 1, 1)`); the import does
  the same, so whole batches predict as there (see its module docstring for the names).
- Transformer: `build_encoder_decoder_transformer`, TSLib's encoder-decoder.
"""

from kerasfactory.interop import tslib_tables as t
from kerasfactory.models import (
    build_dlinear, build_encoder_decoder_transformer, build_itransformer, build_patchtst, build_timemixer,
)
from kerasfactory.models.encoder_decoder import mark_width


def activation(name):
    """TSLib's `EncoderLayer`/`DecoderLayer`: `F.relu` for "relu", `F.gelu` (exact) for anything else."""
    return "relu" if name == "relu" else "gelu"


def _sizes(a):
    return dict(seq_len=a["seq_len"], pred_len=a["pred_len"], n_vars=a["enc_in"],
                mark_dim=mark_width(a["embed"], a["freq"]), freq=a["freq"])


def _encoder(a):
    return dict(d_model=a["d_model"], n_heads=a["n_heads"], n_layers=a["e_layers"], d_ff=a["d_ff"],
                dropout=a["dropout"], activation=activation(a["activation"]))


def itransformer(a):
    model = build_itransformer(**_sizes(a), **_encoder(a), residual=False, revin_affine=False)
    return model, {
        **t.nest("enc_embedding", t.kerasfactory_layer(model.get_layer("embedding"))),
        **t.nest("encoder", t.encoder(model, a["e_layers"])),
        **t.nest("projection", t.linear(model.get_layer("head"))),
    }


def patchtst(a):
    model = build_patchtst(
        **_sizes(a), **_encoder(a), patch_len=a["patch_len"], stride=a["stride"], head_dropout=a["dropout"],
        head_dropout_position="after", final_norm="batch", revin_affine=False,
    )
    head = t.linear(model.get_layer("head"))
    patches = model.get_layer("embedding").num_patches(a["seq_len"])
    # TSLib flattens (d_model, patch) per variate, we flatten (patch, d_model): column d * P + p is row p * D + d.
    head["weight"].to_keras = lambda w, d=a["d_model"], p=patches: (
        w.reshape(w.shape[0], d, p).transpose(2, 1, 0).reshape(p * d, w.shape[0])
    )
    return model, {
        **t.nest("patch_embedding", t.kerasfactory_layer(model.get_layer("embedding"))),
        **t.nest("encoder", t.encoder(model, a["e_layers"], norm=lambda layer: t.nest("1", t.batch_norm(layer)))),
        **t.nest("head.linear", head),
    }


def dlinear(a):
    model = build_dlinear(**_sizes(a), moving_avg=a["moving_avg"], individual=a["individual"])
    table = {}
    for torch_name, name in (("Linear_Seasonal", "linear_seasonal"), ("Linear_Trend", "linear_trend")):
        layer = model.get_layer(name)
        if a["individual"]:
            for i in range(a["enc_in"]):
                table.update(t.nest(f"{torch_name}.{i}", t.linear(layer, index=i)))
        else:
            table.update(t.nest(torch_name, t.linear(layer)))
    return model, table


def timemixer(a):
    layers = a["down_sampling_layers"]
    model = build_timemixer(
        **_sizes(a), d_model=a["d_model"], d_ff=a["d_ff"], n_layers=a["e_layers"], dropout=a["dropout"],
        down_sampling_layers=layers, down_sampling_window=a["down_sampling_window"],
        down_sampling_method=a["down_sampling_method"], decomp_method=a["decomp_method"],
        moving_avg=a["moving_avg"], top_k=a["top_k"], channel_independence=bool(a["channel_independence"]),
        use_norm=bool(a["use_norm"]), mark_order="tslib",
    )
    table = t.nest("enc_embedding", t.kerasfactory_layer(model.get_layer("enc_embedding").embedding))
    for i in range(layers + 1):
        # TSLib's `Normalize(affine=True, non_norm=not use_norm)` keeps its affine parameters either way.
        norm = {key: t.Ignored((a["enc_in"],)) for key in ("affine_weight", "affine_bias")}
        if a["use_norm"]:
            norm = t.kerasfactory_layer(model.get_layer(f"normalize_layers_{i}"))
        table.update(t.nest(f"normalize_layers.{i}", norm))
        table.update(t.nest(f"predict_layers.{i}", t.linear(model.get_layer(f"predict_layers_{i}"))))
    for k in range(a["e_layers"]):
        block = model.get_layer(f"pdm_blocks_{k}")
        mlps = {"out_cross_layer": block.out_cross_layer}
        mlps.update({f"mixing_multi_scale_season.down_sampling_layers.{i}": pair
                     for i, pair in enumerate(block.season_layers)})
        mlps.update({f"mixing_multi_scale_trend.up_sampling_layers.{j}": pair
                     for j, pair in enumerate(block.trend_layers)})
        entries = {"layer_norm.weight": t.Ignored((a["d_model"],)), "layer_norm.bias": t.Ignored((a["d_model"],))}
        for path, (first, second) in mlps.items():  # nn.Sequential(Linear, GELU, Linear): entries 0 and 2
            entries.update(t.nest(f"{path}.0", t.linear(first)))
            entries.update(t.nest(f"{path}.2", t.linear(second)))
        table.update(t.nest(f"pdm_blocks.{k}", entries))
    return model, {**table, **t.nest("projection_layer", t.linear(model.get_layer("projection_layer")))}


def transformer(a):
    model = build_encoder_decoder_transformer(
        seq_len=a["seq_len"], label_len=a["label_len"], pred_len=a["pred_len"], n_vars=a["enc_in"], freq=a["freq"],
        dec_vars=a["dec_in"], out_vars=a["c_out"], embed_type=a["embed"], n_dec_layers=a["d_layers"], **_encoder(a),
    )
    return model, {
        **t.nest("enc_embedding", t.kerasfactory_layer(model.get_layer("enc_embedding"))),
        **t.nest("encoder", t.encoder(model, a["e_layers"])),
        **t.nest("dec_embedding", t.kerasfactory_layer(model.get_layer("dec_embedding"))),
        **t.nest("decoder", t.decoder(model, a["d_layers"])),
        **t.nest("decoder.projection", t.linear(model.get_layer("projection"))),
    }


ARCHITECTURES = {
    "iTransformer": itransformer, "PatchTST": patchtst, "DLinear": dlinear, "TimeMixer": timemixer,
    "Transformer": transformer,
}

# A key only each model's state dict holds, to name the model a wrong state dict comes from.
SIGNATURES = {
    "iTransformer": ("enc_embedding.value_embedding.weight",),
    "PatchTST": ("patch_embedding.value_embedding.weight",),
    "DLinear": ("Linear_Seasonal.weight", "Linear_Seasonal.0.weight"),
    "TimeMixer": ("projection_layer.weight",),
    "Transformer": ("dec_embedding.value_embedding.tokenConv.weight",),
}


def guess(keys):
    """The TSLib model whose signature key is among `keys`, or `None`."""
    keys = set(keys)
    return next((name for name, marks in SIGNATURES.items() if keys & set(marks)), None)

