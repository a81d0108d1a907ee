"""Whole Time-Series-Library checkpoints -> Keras models that predict what the PyTorch model predicts.

`from_tslib(name, state_dict_or_path, **args)` builds the kerasfactory model
of TSLib's `models/<name>.py` (long_term_forecast) for TSLib's own arguments,
loads every weight of the state dict, and returns a Keras model with TSLib's
four inputs. The architecture of each model and its key table live in
`kerasfactory.interop.tslib_models`; the tables of the shared modules in
`kerasfactory.interop.tslib_tables`. This module stands on `kerasfactory.models`
(whole models need their builders); PyTorch is imported only to read a file.
"""

import os
from collections.abc import Mapping

import keras
import numpy as np

from kerasfactory.freq import normalize_freq
from kerasfactory.interop import torch as layer_tables
from kerasfactory.interop import tslib_models
from kerasfactory.interop.tslib_tables import Param
from kerasfactory.layers import validation
from kerasfactory.models.encoder_decoder import EMBED_TYPES, mark_width

# Time-Series-Library `run.py`'s defaults of the arguments these models read.
DEFAULTS = {
    "seq_len": 96, "label_len": 48, "pred_len": 96, "enc_in": 7, "dec_in": 7, "c_out": 7, "d_model": 512,
    "n_heads": 8, "e_layers": 2, "d_layers": 1, "d_ff": 2048, "moving_avg": 25, "factor": 1, "dropout": 0.1,
    "embed": "timeF", "freq": "h", "activation": "gelu", "channel_independence": 1, "decomp_method": "moving_avg",
    "use_norm": 1, "down_sampling_layers": 0, "down_sampling_window": 1, "down_sampling_method": None, "top_k": 5,
}
# Constructor arguments of one model (`Model(configs, patch_len=16, stride=8)`, `Model(configs, individual=False)`).
EXTRA = {"PatchTST": {"patch_len": 16, "stride": 8}, "DLinear": {"individual": False}}
POSITIVE = ("seq_len", "pred_len", "enc_in", "dec_in", "c_out", "d_model", "n_heads", "e_layers", "d_layers",
            "moving_avg", "factor", "top_k", "down_sampling_window", "patch_len", "stride")
FLAGS = ("channel_independence", "use_norm")


def from_tslib(name, state_dict_or_path, *, strict=True, **args):
    """A Keras model with the weights of a Time-Series-Library checkpoint, predicting as it does.

    `model([x_enc, x_mark_enc, x_dec, x_mark_dec])` equals TSLib's
    `Model(configs).eval()(x_enc, x_mark_enc, x_dec, x_mark_dec)[:, -pred_len:]`
    (within float32 rounding, on every Keras backend). The inputs are
    TSLib's: `x_enc` `(batch, seq_len, enc_in)`, `x_mark_enc`
    `(batch, seq_len, marks)` (timeF features with `embed="timeF"`, else
    TSLib's integer month, day, weekday, hour (, minute) columns), and the
    decoder's `x_dec` `(batch, label_len + pred_len, dec_in)` and its marks;
    only the Transformer reads `x_dec` and `x_mark_dec`, the others accept
    and ignore them (any shape). Output `(batch, pred_len, channels)`.
    TimeMixer copies TSLib's tiling of a batch's marks across variates
    (`x_mark.repeat(N, 1, 1)`, under which a variate may read another
    sample's marks), so whole batches predict as in TSLib; `build_timemixer`'s
    default reads each sample's own (see `kerasfactory.models.variate_embedding`).

    Args:
        name: "iTransformer", "PatchTST", "DLinear", "TimeMixer" or "Transformer".
        state_dict_or_path: the model's `state_dict()` (tensors or arrays;
            keys under `module.`, as `nn.DataParallel` saves them, are read
            too), or the path of a file `torch.save`d from it (TSLib's
            `checkpoints/<setting>/checkpoint.pth`), read with
            `torch.load(weights_only=True)`, so it runs no code.
        strict: missing and unexpected keys are errors (default). False skips
            them (missing weights keep their initial values); shape mismatches
            are errors either way.
        **args: TSLib's arguments, by its names, as the checkpoint was trained
            (`DEFAULTS`, `run.py`'s defaults, fill the rest): `seq_len`,
            `label_len`, `pred_len`, `enc_in`, `dec_in`, `c_out`, `d_model`,
            `n_heads`, `e_layers`, `d_layers`, `d_ff`, `dropout`, `activation`,
            `embed`, `freq`, `factor`, `moving_avg`, `top_k`, `channel_independence`,
            `decomp_method`, `use_norm`, `down_sampling_layers`,
            `down_sampling_window`, `down_sampling_method`; PatchTST's constructor
            `patch_len`, `stride` (16, 8; TSLib's `--patch_len` does not reach
            PatchTST) and DLinear's `individual`. A model ignores those it
            does not read, as TSLib does.

    Returns:
        An uncompiled `keras.Model` (inputs named `x_enc`, `x_mark_enc`,
        `x_dec`, `x_mark_dec`) that saves to and loads from `.keras` files.

    Raises:
        TypeError: an argument name TSLib's model does not have (listing those it has).
        ValueError: an unknown `name`; a bad argument value; a state dict of
            another model; or, listed together, every missing and unexpected
            key and shape mismatch (nothing is loaded then).

    Example:
    >>> import numpy as np
    >>> linear = {"weight": np.full((8, 32), 1 / 32, "float32"), "bias": np.zeros(8, "float32")}
    >>> state = {f"Linear_{part}.{k}": v for part in ("Seasonal", "Trend") for k, v in linear.items()}
    >>> model = from_tslib("DLinear", state, seq_len=32, pred_len=8, enc_in=3)  # or a checkpoint.pth path
    >>> [t.name for t in model.inputs], model.output.shape
    (['x_enc', 'x_mark_enc', 'x_dec', 'x_mark_dec'], (None, 8, 3))

    References: Wu et al., Time-Series-Library (thuml, github.com/thuml/Time-Series-Library);
    the papers of each model (see `kerasfactory.models`).
    """
    validation.one_of("name", name, tuple(tslib_models.ARCHITECTURES))
    strict = validation.flag("strict", strict)
    args = _check_args(name, args)
    received = _read(state_dict_or_path)
    other = tslib_models.guess(received)
    if other is not None and other != name:
        key = next(k for k in tslib_models.SIGNATURES[other] if k in received)
        raise ValueError(
            f"`state_dict_or_path` must be a state dict of Time-Series-Library's {name}, got one of its {other} "
            f"(it holds {key!r}); load it with from_tslib({other!r}, ...)"
        )
    model, table = tslib_models.ARCHITECTURES[name](args)
    if not set(table) & set(received):
        raise ValueError(
            f"`state_dict_or_path` must be a state dict of Time-Series-Library's {name} (keys such as "
            f"{', '.join(repr(k) for k in list(table)[:3])}), got none of its keys among {len(received)} "
            f"(such as {', '.join(repr(k) for k in list(received)[:3]) or 'none'})"
        )
    _load(name, table, received, strict)
    return _four_inputs(model, name, args)


def _check_args(name, given):
    valid = {**DEFAULTS, **EXTRA.get(name, {})}
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise TypeError(
            f"`args` of Time-Series-Library's {name} must be among {', '.join(sorted(valid))}, got {unknown[0]!r}"
        )
    a = {**valid, **given}
    for key in POSITIVE:
        if key in a:
            a[key] = validation.positive_int(key, a[key])
    for key in ("label_len", "down_sampling_layers"):
        a[key] = validation.non_negative_int(key, a[key])
    a["d_ff"] = validation.positive_int("d_ff", a["d_ff"] or 4 * a["d_model"])  # TSLib: `d_ff or 4 * d_model`
    a["dropout"] = validation.probability("dropout", a["dropout"])
    a["embed"] = validation.one_of("embed", a["embed"], EMBED_TYPES)
    normalize_freq(a["freq"])
    for key in FLAGS:
        if a[key] not in (0, 1):  # TSLib passes 0 / 1 (True / False alike)
            raise ValueError(f"`{key}` must be 0 or 1, got {a[key]!r}")
    if "individual" in a:
        a["individual"] = validation.flag("individual", a["individual"])
    if name == "TimeMixer":
        _check_timemixer(a)
    return a


def _check_timemixer(a):
    if a["down_sampling_method"] not in ("avg", "max", "conv"):
        raise ValueError(
            f"`down_sampling_method` must be 'avg' or 'max' for TimeMixer, got {a['down_sampling_method']!r} "
            "(run.py's default None does not run in Time-Series-Library's TimeMixer; its scripts pass "
            "down_sampling_layers=3, down_sampling_window=2, down_sampling_method='avg')"
        )
    if a["embed"] != "timeF":
        raise ValueError(f"`embed` must be 'timeF' for TimeMixer (its scripts' setting), got {a['embed']!r}")
    if a["c_out"] != a["enc_in"]:
        raise ValueError(f"`c_out` must equal `enc_in`={a['enc_in']} for the channel-independent TimeMixer, "
                         f"got {a['c_out']}")


def _read(source):
    """`{key: numpy array}` from a state dict or the path of a `torch.save`d one."""
    if isinstance(source, (str, os.PathLike)):
        source = layer_tables.read_torch_file(source, "from_tslib needs PyTorch to read a file")
    if not isinstance(source, Mapping):
        raise TypeError(f"`state_dict_or_path` must be a state dict (a mapping) or a file path, "
                        f"got {type(source).__name__}")
    keys = [str(k) for k in source]
    strip = len("module.") if keys and all(k.startswith("module.") for k in keys) else 0  # nn.DataParallel
    return {str(k)[strip:]: layer_tables._to_numpy(str(k), v) for k, v in source.items()}


def _load(name, table, received, strict):
    """Checks every key of `table` and `received`, then assigns all or (raising, listing each problem) none."""
    problems = layer_tables.check_entries(table, received, strict)
    if problems:
        raise ValueError(
            f"Cannot load the state dict into Time-Series-Library's {name}; nothing was loaded "
            f"({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )
    values = {}  # id(variable) -> (variable, new value); a Param with `index` fills one row
    for key, entry in table.items():
        if not isinstance(entry, Param) or key not in received:
            continue
        variable = entry.variable
        value = entry.to_keras(received[key])
        if entry.index is not None:
            full = values.get(id(variable), (None, np.array(keras.ops.convert_to_numpy(variable))))[1]
            full[entry.index] = value
            value = full
        values[id(variable)] = (variable, value)
    for variable, value in values.values():
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _four_inputs(model, name, a):
    """`model` taking TSLib's `[x_enc, x_mark_enc, x_dec, x_mark_dec]` (encoder-only models ignore the last two)."""
    if name == "Transformer":
        return model  # `build_encoder_decoder_transformer` takes them already
    x_enc = keras.Input((a["seq_len"], a["enc_in"]), name="x_enc")
    x_mark_enc = keras.Input((a["seq_len"], mark_width(a["embed"], a["freq"])), name="x_mark_enc")
    x_dec, x_mark_dec = keras.Input((None, None), name="x_dec"), keras.Input((None, None), name="x_mark_dec")
    return keras.Model(
        [x_enc, x_mark_enc, x_dec, x_mark_dec], model([x_enc, x_mark_enc]), name=f"tslib_{model.name}"
    )


__all__ = ["DEFAULTS", "EXTRA", "from_tslib"]
