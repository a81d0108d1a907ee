"""PyTorch state dicts <-> kerasfactory layers: one table per layer.

Each table maps the parameter names of the Time-Series-Library reference
module (`layers/Embed.py`; RevIN, Kim et al. ICLR 2022) to the Keras weight
that holds it, with the transpose between the two layouts
(torch key, torch shape -> Keras weight, Keras shape):

- TokenEmbedding: `tokenConv.weight` (d_model, c_in, k) -> `conv.kernel`
  (k, c_in, d_model); `tokenConv.bias` (d_model,) -> `conv.bias` (use_bias only).
- PositionalEmbedding: `pe` (1, max_len, d_model), fixed.
- FixedEmbedding: `emb.weight` (c_in, d_model), fixed.
- TemporalEmbedding: per field (`second` for secondly and `minute` for minutely
  freq only, `hour`, `weekday`, `day`, `month`, then any `extra_fields`, which
  the reference lacks): fixed `<field>_embed.emb.weight` (size, d_model);
  learned `<field>_embed.weight` -> `<field>_embed.embeddings`, same shape.
- TimeFeatureEmbedding: `embed.weight` (d_model, width) -> `embed.kernel` (width, d_model).
- DataEmbedding, DataEmbeddingWithoutPosition: `value_embedding.*` (TokenEmbedding),
  `position_embedding.pe` (also in the reference without position),
  `temporal_embedding.*` (TemporalEmbedding or TimeFeatureEmbedding).
- DataEmbeddingInverted: `value_embedding.weight` (d_model, seq_len) ->
  `value_embedding.kernel` (seq_len, d_model); `value_embedding.bias` (d_model,).
- PatchEmbedding: `value_embedding.weight` (d_model, patch_len) ->
  `value_embedding.kernel` (patch_len, d_model); `position_embedding.pe`, fixed.
- ReversibleInstanceNorm: `affine_weight`, `affine_bias` (num_features,),
  same names (affine only).

"fixed" entries are sinusoid tables the reference keeps in its state dict
(a buffer, or a frozen parameter) while ours are computed from the formula
and never saved. Exporting emits them, so the torch module loads with
`strict=True`. Loading checks their shape and that their values equal ours
within `FIXED_ATOL`; a different table cannot be represented, so it is an
error whatever `strict` says, like a shape mismatch.

PyTorch is optional: only `load_torch_file` imports it, when called.
"""

import collections
import dataclasses
from collections.abc import Mapping

import keras
import numpy as np

from kerasfactory.layers.sinusoid import sinusoid_table

# Sinusoid tables from different float32 libraries differ by up to ~2.5e-4 at
# position 5000 (a 1-ulp difference in a frequency, times the position); a
# table that is really different (another formula, a learned one) is off by O(1).
FIXED_ATOL = 1e-3

LoadResult = collections.namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


@dataclasses.dataclass
class _Weight:
    """A torch parameter held by a Keras variable; `perm` takes torch axes to Keras axes."""

    variable: object
    perm: tuple = None

    def torch_shape(self):
        shape = tuple(self.variable.shape)
        return shape if self.perm is None else tuple(shape[i] for i in np.argsort(self.perm))

    def to_keras(self, array):
        return array if self.perm is None else np.transpose(array, self.perm)

    def to_torch(self):
        array = keras.ops.convert_to_numpy(self.variable)
        if array.dtype.name == "bfloat16":
            array = array.astype(np.float32)
        if self.perm is not None:
            array = np.transpose(array, np.argsort(self.perm))
        return np.ascontiguousarray(array)


@dataclasses.dataclass
class _Fixed:
    """A constant table (torch layout) that the reference saves and we compute."""

    value: np.ndarray

    def torch_shape(self):
        return self.value.shape


# --- tables for the Keras built-ins that composites hold as sub-layers ---


def _conv1d(layer):  # nn.Conv1d
    table = {"weight": _Weight(layer.kernel, (2, 1, 0))}
    if layer.use_bias:
        table["bias"] = _Weight(layer.bias)
    return table


def _dense(layer):  # nn.Linear
    table = {"weight": _Weight(layer.kernel, (1, 0))}
    if layer.use_bias:
        table["bias"] = _Weight(layer.bias)
    return table


def _embedding(layer):  # nn.Embedding
    return {"weight": _Weight(layer.embeddings)}


_BUILTINS = (
    (keras.layers.Conv1D, _conv1d),
    (keras.layers.Dense, _dense),
    (keras.layers.Embedding, _embedding),
)

# --- one table per kerasfactory layer, keyed by class name (so this module
# --- imports no layer class and works whichever layers a version ships) ---

_TABLES = {}
_BUILD_SHAPES = {}


def _table(name, build_shape=None):
    def register(fn):
        _TABLES[name] = fn
        if build_shape is not None:
            _BUILD_SHAPES[name] = build_shape
        return fn

    return register


@_table("TokenEmbedding", build_shape=lambda layer: (None, None, layer.c_in))
def _token_embedding(layer):
    return _nest("tokenConv", layer.conv)


@_table("PositionalEmbedding", build_shape=lambda layer: (None, None, layer.d_model))
def _positional_embedding(layer):
    return {"pe": _Fixed(sinusoid_table(layer.max_len, layer.d_model)[None])}


@_table("FixedEmbedding", build_shape=lambda layer: (None, None))
def _fixed_embedding(layer):
    # The reference's frozen `nn.Embedding`: a parameter in its state dict, a constant here.
    return {"emb.weight": _Fixed(sinusoid_table(layer.c_in, layer.d_model))}


@_table(
    "TemporalEmbedding",
    build_shape=lambda layer: (None, None, layer.input_width),
)
def _temporal_embedding(layer):
    table = {}
    for field in ("second", "minute", "hour", "weekday", "day", "month"):  # the reference's order
        sublayer = getattr(layer, f"{field}_embed", None)
        if sublayer is not None:
            # fixed: `<field>_embed.emb.weight`; learned (`Embedding`): `<field>_embed.weight`.
            table.update(_nest(f"{field}_embed", sublayer))
    for field, _ in getattr(layer, "extra_fields", ()):  # covariates: no reference counterpart
        table.update(_nest(f"{field}_embed", getattr(layer, f"{field}_embed")))
    return table


@_table("TimeFeatureEmbedding", build_shape=lambda layer: (None, None, layer.width))
def _time_feature_embedding(layer):
    return _nest("embed", layer.embed)


@_table("DataEmbedding", build_shape=lambda layer: (None, None, layer.c_in))
def _data_embedding(layer):
    # DataEmbeddingWithoutPosition (a subclass) has no position term, but the
    # reference `DataEmbedding_wo_pos` still holds `position_embedding.pe`.
    if layer.position_embedding is not None:
        position = _nest("position_embedding", layer.position_embedding)
    else:
        position = {"position_embedding.pe": _Fixed(sinusoid_table(layer.max_len, layer.d_model)[None])}
    return {
        **_nest("value_embedding", layer.value_embedding),
        **position,
        **_nest("temporal_embedding", layer.temporal_embedding),
    }


@_table("PatchEmbedding", build_shape=lambda layer: (None, None, None))
def _patch_embedding(layer):
    return {
        **_nest("value_embedding", layer.value_embedding),
        **_nest("position_embedding", layer.position_embedding),
    }


@_table("DataEmbeddingInverted", build_shape=lambda layer: (None, layer.seq_len, None))
def _data_embedding_inverted(layer):
    return _nest("value_embedding", layer.value_embedding)


@_table("ReversibleInstanceNorm", build_shape=lambda layer: (None, None, layer.num_features))
def _reversible_instance_norm(layer):
    if not layer.affine:
        return {}
    return {"affine_weight": _Weight(layer.affine_weight), "affine_bias": _Weight(layer.affine_bias)}


def _nest(name, sublayer):
    return {f"{name}.{key}": entry for key, entry in _entries(sublayer).items()}


def _registered_name(layer):
    """The name of the nearest kerasfactory class of `layer` that has a table (subclasses share it)."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("kerasfactory.") and cls.__name__ in _TABLES:
            return cls.__name__
    return None


def _table_for(layer):
    for base, table in _BUILTINS:
        if isinstance(layer, base):
            return table
    name = _registered_name(layer)
    if name is None:
        supported = ", ".join(sorted(_TABLES))
        raise TypeError(
            f"`layer` must be a layer with a PyTorch table ({supported}), "
            f"got {type(layer).__name__}"
        )
    return _TABLES[name]


def _ensure_built(layer):
    if layer.built:
        return
    build_shape = _BUILD_SHAPES.get(_registered_name(layer))
    if build_shape is None:
        raise ValueError(
            f"`layer` must be built before loading or exporting weights, "
            f"got an unbuilt {type(layer).__name__}: call it on an input first"
        )
    layer.build(build_shape(layer))


def _entries(layer):
    """The layer's table `{torch key: entry}`, building the layer if needed."""
    table = _table_for(layer)
    _ensure_built(layer)
    return table(layer)


def _probe(layer):
    """A built layer to validate against, leaving an unbuilt `layer` untouched."""
    if layer.built:
        return layer
    try:
        return type(layer).from_config(layer.get_config())
    except Exception:  # an unserializable config: fall back to building the layer itself
        return layer


def _to_numpy(key, value):
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        try:
            value = value.numpy()
        except (TypeError, RuntimeError):  # bfloat16 and friends have no numpy dtype
            value = value.float().numpy()
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(
            f"`state_dict[{key!r}]` must be a numeric array or tensor, got {type(value).__name__}"
        )
    return array


def _prefix(prefix):
    if not isinstance(prefix, str):
        raise TypeError(f"`prefix` must be a string, got {prefix!r}")
    return prefix if not prefix or prefix.endswith(".") else prefix + "."


def check_entries(table, received, strict, prefix=""):
    """Every problem of loading `received` (`{key: array}`) into `table` (`{key: entry}`), one line each.

    Missing and unexpected keys (when `strict`), shape mismatches, and fixed
    tables whose values differ from ours by more than `FIXED_ATOL`; keys are
    shown with `prefix`. Shared by `load_torch_state_dict` and `interop.tslib`.
    """
    problems = []
    if strict:
        problems += [
            f"missing key {prefix + key!r}: expected shape {entry.torch_shape()}"
            for key, entry in table.items() if key not in received
        ]
        problems += [
            f"unexpected key {prefix + key!r}: received shape {value.shape}"
            for key, value in received.items() if key not in table
        ]
    for key, entry in table.items():
        if key not in received:
            continue
        value, expected = received[key], tuple(entry.torch_shape())
        if value.shape != expected:
            problems.append(
                f"shape mismatch for {prefix + key!r}: expected shape {expected}, "
                f"received shape {value.shape}"
            )
        elif isinstance(entry, _Fixed):
            diff = float(np.max(np.abs(value.astype(np.float64) - entry.value), initial=0.0))
            if not diff <= FIXED_ATOL:
                problems.append(
                    f"value mismatch for {prefix + key!r}: the fixed sinusoid table must "
                    f"equal ours within {FIXED_ATOL}, received max abs diff {diff:.3g}"
                )
    return problems


def read_torch_file(path, needs):
    """The state dict `torch.save`d at `path`, read with `weights_only=True` (no code runs).

    `needs` begins the ImportError's message when PyTorch is missing, e.g.
    "load_torch_file needs PyTorch".
    """
    try:
        import torch
    except ImportError as error:
        raise ImportError(f'{needs}: pip install "kerasfactory[torch]"') from error
    return torch.load(path, map_location="cpu", weights_only=True)


def load_torch_state_dict(layer, state_dict, prefix="", strict=True):
    """Loads a PyTorch (Time-Series-Library) state dict into a kerasfactory layer.

    Args:
        layer: a kerasfactory layer (see the table in this module's docstring);
            built here from its config if it is not built yet.
        state_dict: a mapping of parameter names to torch tensors or numpy
            arrays, e.g. `module.state_dict()` or `torch.load(path, weights_only=True)`.
        prefix: where the layer sits in a whole model's state dict, e.g.
            `"enc_embedding."` (a missing final dot is added); keys that do
            not start with it are ignored.
        strict: if True, missing and unexpected keys (under `prefix`) are
            errors. Shape mismatches, and fixed tables whose values differ
            from ours, are errors either way.

    Returns:
        `LoadResult(missing_keys, unexpected_keys)`, full keys (both empty
        when `strict=True`).

    Raises:
        ValueError: listing every problem key with its expected and received
            shapes. Nothing is assigned unless every key passes: the layer is
            unchanged after a failed load (an unbuilt layer stays unbuilt).
    """
    prefix = _prefix(prefix)
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"`state_dict` must be a mapping of names to tensors or arrays, "
            f"got {type(state_dict).__name__}"
        )
    received = {
        key[len(prefix):]: _to_numpy(key, value)
        for key, value in state_dict.items()
        if isinstance(key, str) and key.startswith(prefix)
    }
    table = _entries(_probe(layer))
    missing = [key for key in table if key not in received]
    unexpected = [key for key in received if key not in table]
    problems = check_entries(table, received, strict, prefix)
    if problems:
        raise ValueError(
            f"Cannot load the state dict into {type(layer).__name__} {layer.name!r}; "
            f"nothing was loaded ({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )
    table = _entries(layer)
    for key, entry in table.items():
        if isinstance(entry, _Weight) and key in received:
            entry.variable.assign(entry.to_keras(received[key]))
    return LoadResult([prefix + k for k in missing], [prefix + k for k in unexpected])


def to_torch_state_dict(layer, prefix=""):
    """Exports a kerasfactory layer's weights under the reference's PyTorch names.

    Returns a dict `{prefix + torch key: numpy array}` in the torch layout,
    fixed sinusoid tables included, so that
    `module.load_state_dict({k: torch.from_numpy(v) ...}, strict=True)` works
    on the reference module. An unbuilt layer is built from its config first.
    """
    prefix = _prefix(prefix)
    return {
        prefix + key: entry.to_torch() if isinstance(entry, _Weight) else entry.value.copy()
        for key, entry in _entries(layer).items()
    }


def load_torch_file(layer, path, prefix="", strict=True):
    """Loads a state dict saved with `torch.save(module.state_dict(), path)`.

    Reads with `torch.load(path, map_location="cpu", weights_only=True)`, so
    nothing in the file is unpickled as code; then `load_torch_state_dict`.
    Needs PyTorch (`pip install "kerasfactory[torch]"`).
    """
    state_dict = read_torch_file(path, "load_torch_file needs PyTorch")
    return load_torch_state_dict(layer, state_dict, prefix=prefix, strict=strict)
