"""Property tests: every layer over drawn shapes, dtypes and configurations.

On whichever backend `KERAS_BACKEND` names:

- valid inputs (float16/32/64, int32/64, bool) give finite outputs of the
  documented shape in the layer's compute dtype;
- invalid arguments and inputs raise `ValueError`/`TypeError` whose message
  names the argument: never NaN, never a backend-internal error;
- NaN/Inf in the values propagate (as Keras layers do) and stay in their sample;
- the same bad input gives the same error class and message on TensorFlow,
  JAX and PyTorch (each backend runs `python -m tests.test_properties` in a
  subprocess and prints its errors as JSON).

`KERASFACTORY_EXAMPLES` sets the examples per property (default 3, drawn
deterministically so CI is reproducible); raise it to hunt for failures.
"""

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasfactory import layers
from kerasfactory.freq import FREQ_WIDTH, mark_fields, normalize_freq

EXAMPLES = int(os.environ.get("KERASFACTORY_EXAMPLES", "3"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="KERASFACTORY_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FLOATS = ("float16", "float32", "float64")
DTYPES = FLOATS + ("int32", "int64", "bool")
FREQS = ("h", "t", "15min", "s", "d", "b", "w", "m", "a", "H", "D", "30min", "W-SUN", "ME")
small = st.integers(1, 5)
batches = st.integers(1, 2)


@dataclasses.dataclass
class Spec:
    """One drawn call: `cls(**config)(*inputs, **call)`; `name` is what an error must name."""

    cls: type
    config: dict
    inputs: tuple
    call: dict = dataclasses.field(default_factory=dict)
    shape: tuple = None
    name: str = None

    def run(self):
        return self.cls(**self.config)(*self.inputs, **self.call)


def array(rng, shape, dtype, scale=1.0):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("int"):
        return rng.integers(-100, 100, shape).astype(dtype)
    return (rng.standard_normal(shape) * scale).astype(dtype)


@st.composite
def values(draw, shape, dtypes=DTYPES):
    """A numpy array of `shape` in a drawn dtype, moderate values (finite in float16)."""
    dtype = draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return array(rng, shape, dtype, draw(st.sampled_from([1e-3, 1.0, 100.0])))


@st.composite
def index_values(draw, shape, sizes, in_range):
    """Integral indices, column `j` for a table of `sizes[j]` rows, in any dtype."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = np.broadcast_to(np.asarray(sizes), shape)
    if in_range:
        idx = np.floor(rng.random(shape) * sizes).astype("int64")
    else:
        idx = rng.integers(-3, 4, shape) * sizes + rng.integers(0, 64, shape)
    dtypes = DTYPES if (not in_range or sizes.min() >= 2) else DTYPES[:-1]
    dtype = draw(st.sampled_from(dtypes))
    return (idx % 2 == 1) if dtype == "bool" else idx.astype(dtype)


# -- valid calls: one strategy per layer ------------------------------------


@st.composite
def token(draw):
    c_in, d_model, k = draw(small), draw(small), draw(st.integers(1, 6))
    padding = draw(st.sampled_from(("same", "circular", "causal")))
    b, t = draw(batches), draw(st.integers(1, 12))
    config = dict(c_in=c_in, d_model=d_model, kernel_size=k, padding=padding, use_bias=draw(st.booleans()))
    return Spec(layers.TokenEmbedding, config, (draw(values((b, t, c_in))),), shape=(b, t, d_model))


@st.composite
def positional(draw):
    max_len, d_model = draw(st.integers(1, 32)), draw(st.integers(1, 9))
    t = draw(st.integers(1, max_len))
    shape = (draw(batches), t, *draw(st.lists(small, max_size=2)))
    return Spec(layers.PositionalEmbedding, dict(max_len=max_len, d_model=d_model), (draw(values(shape)),), shape=(1, t, d_model))


@st.composite
def fixed(draw):
    c_in, d_model, oor = draw(st.integers(1, 40)), draw(small), draw(st.sampled_from(("wrap", "clip", "error")))
    b, t = draw(batches), draw(st.integers(1, 8))
    x = draw(index_values((b, t), c_in, in_range=oor == "error"))
    return Spec(layers.FixedEmbedding, dict(c_in=c_in, d_model=d_model, out_of_range=oor), (x,), shape=(b, t, d_model))


@st.composite
def temporal(draw):
    freq, oor = draw(st.sampled_from(FREQS)), draw(st.sampled_from(("wrap", "clip", "error")))
    fields = mark_fields(freq)
    width = len(fields) + draw(st.integers(0, 2))
    sizes = [size for _, size in fields] + [2] * 2
    b, t, d_model = draw(batches), draw(st.integers(1, 8)), draw(small)
    x = draw(index_values((b, t, width), sizes[:width], in_range=oor == "error"))
    config = dict(d_model=d_model, embed_type=draw(st.sampled_from(("fixed", "learned"))), freq=freq, out_of_range=oor)
    return Spec(layers.TemporalEmbedding, config, (x,), shape=(b, t, d_model))


@st.composite
def time_feature(draw):
    freq, b, t, d_model = draw(st.sampled_from(FREQS)), draw(batches), draw(st.integers(1, 8)), draw(small)
    x = draw(values((b, t, FREQ_WIDTH[normalize_freq(freq)])))
    return Spec(layers.TimeFeatureEmbedding, dict(d_model=d_model, freq=freq), (x,), shape=(b, t, d_model))


def data_embedding(cls):
    @st.composite
    def strategy(draw):
        embed_type, freq = draw(st.sampled_from(("fixed", "learned", "timeF"))), draw(st.sampled_from(FREQS))
        c_in, d_model, k = draw(small), draw(small), draw(st.integers(1, 4))
        padding = draw(st.sampled_from(("same", "circular", "causal")))
        b, t = draw(batches), draw(st.integers(1, 10))
        config = dict(
            c_in=c_in, d_model=d_model, embed_type=embed_type, freq=freq, kernel_size=k, padding=padding,
            dropout=draw(st.sampled_from((0.0, 0.1, 0.5))), max_len=draw(st.integers(t, 16)),
        )
        inputs = (draw(values((b, t, c_in))),)
        if draw(st.booleans()):
            code = normalize_freq(freq)
            if embed_type == "timeF":
                marks = draw(values((b, t, FREQ_WIDTH[code])))
            else:
                sizes = [s for _, s in mark_fields(freq)]
                marks = draw(index_values((b, t, len(sizes)), sizes, in_range=False))
            inputs += (marks,)
        return Spec(cls, config, inputs, shape=(b, t, d_model))

    return strategy()


@st.composite
def inverted(draw):
    seq_len, d_model, b, v = draw(st.integers(1, 12)), draw(small), draw(batches), draw(small)
    inputs, tokens = (draw(values((b, seq_len, v))),), v
    if draw(st.booleans()):
        m = draw(small)
        inputs, tokens = inputs + (draw(values((b, seq_len, m))),), v + m
    config = dict(seq_len=seq_len, d_model=d_model, dropout=draw(st.sampled_from((0.0, 0.1))))
    return Spec(layers.DataEmbeddingInverted, config, inputs, shape=(b, tokens, d_model))


@st.composite
def patch(draw):
    patch_len, stride, padding = draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.sampled_from(("end", None)))
    b, v, d_model, t = draw(batches), draw(small), draw(small), draw(st.integers(patch_len, 24))
    n = (t + (stride if padding == "end" else 0) - patch_len) // stride + 1
    config = dict(d_model=d_model, patch_len=patch_len, stride=stride, padding=padding)
    return Spec(layers.PatchEmbedding, config, (draw(values((b, t, v))),), shape=(b, v, n, d_model))


@st.composite
def revin(draw):
    nf, b, t = draw(small), draw(batches), draw(st.integers(1, 12))
    config = dict(num_features=nf, eps=draw(st.sampled_from((1e-8, 1e-5, 1e-2))), affine=draw(st.booleans()))
    return Spec(layers.ReversibleInstanceNorm, config, (draw(values((b, t, nf))),), shape=(b, t, nf))


VALID = {
    "token": token(),
    "positional": positional(),
    "fixed": fixed(),
    "temporal": temporal(),
    "time_feature": time_feature(),
    "data": data_embedding(layers.DataEmbedding),
    "data_wo_pos": data_embedding(layers.DataEmbeddingWithoutPosition),
    "inverted": inverted(),
    "patch": patch(),
    "revin": revin(),
}


def to_numpy(x):
    return keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))


@pytest.mark.parametrize("layer", VALID)
@SETTINGS
@given(data=st.data())
def test_valid_inputs_give_finite_outputs_of_the_documented_shape(layer, data):
    spec = data.draw(VALID[layer])
    instance = spec.cls(**spec.config)
    out = instance(*spec.inputs, **spec.call)
    assert tuple(out.shape) == spec.shape
    assert keras.backend.standardize_dtype(out.dtype) == instance.compute_dtype
    assert np.all(np.isfinite(to_numpy(out)))


# -- invalid constructor arguments --------------------------------------------

NOT_POSITIVE = st.sampled_from([0, -1, -7, 2.5, "3", None, True, [3], float("nan"), float("inf")])
NOT_A_CHOICE = st.sampled_from(["", "nope", "SAME", None, 1, ["same"]])
NOT_A_PATCH_PADDING = st.sampled_from(["", "nope", "End", 1, ["end"]])  # None means no padding
NOT_A_FREQ = st.sampled_from(["", "ms", "xyz", None, 3, "0h", "h-MON", "2"])
NOT_A_RATE = st.sampled_from([-0.1, 1.0, 1.5, "0.1", None, True, float("nan")])
NOT_AN_EPS = st.sampled_from([0, 0.0, -1e-5, float("nan"), float("inf"), "1e-5", None, True])
NOT_AN_INITIALIZER = st.sampled_from(["nope", 3, "he_normall"])
NOT_FIELDS = st.sampled_from(
    ["holiday", 3, [("a b", 2)], [("hour", 2)], [("x", 0)], [("x", 2), ("x", 3)], [("x",)], [(2, "x")]]
)
NOT_A_COUNT = st.sampled_from([-1, 2.5, "3", None, True])

CONSTRUCTORS = {
    "token": (layers.TokenEmbedding, dict(c_in=3, d_model=4), dict(
        c_in=NOT_POSITIVE, d_model=NOT_POSITIVE, kernel_size=NOT_POSITIVE, padding=NOT_A_CHOICE,
        kernel_initializer=NOT_AN_INITIALIZER, bias_initializer=NOT_AN_INITIALIZER)),
    "positional": (layers.PositionalEmbedding, dict(max_len=8, d_model=4), dict(max_len=NOT_POSITIVE, d_model=NOT_POSITIVE)),
    "fixed": (layers.FixedEmbedding, dict(c_in=5, d_model=4), dict(
        c_in=NOT_POSITIVE, d_model=NOT_POSITIVE, out_of_range=NOT_A_CHOICE)),
    "temporal": (layers.TemporalEmbedding, dict(d_model=4), dict(
        d_model=NOT_POSITIVE, embed_type=NOT_A_CHOICE, freq=NOT_A_FREQ, out_of_range=NOT_A_CHOICE,
        extra_fields=NOT_FIELDS)),
    "time_feature": (layers.TimeFeatureEmbedding, dict(d_model=4), dict(
        d_model=NOT_POSITIVE, freq=NOT_A_FREQ, kernel_initializer=NOT_AN_INITIALIZER, extra_columns=NOT_A_COUNT)),
    "data": (layers.DataEmbedding, dict(c_in=3, d_model=4), dict(
        c_in=NOT_POSITIVE, d_model=NOT_POSITIVE, embed_type=NOT_A_CHOICE, freq=NOT_A_FREQ, dropout=NOT_A_RATE,
        max_len=NOT_POSITIVE, kernel_size=NOT_POSITIVE, padding=NOT_A_CHOICE)),
    "data_wo_pos": (layers.DataEmbeddingWithoutPosition, dict(c_in=3, d_model=4), dict(
        c_in=NOT_POSITIVE, embed_type=NOT_A_CHOICE, freq=NOT_A_FREQ, dropout=NOT_A_RATE)),
    "inverted": (layers.DataEmbeddingInverted, dict(seq_len=6, d_model=4), dict(
        seq_len=NOT_POSITIVE, d_model=NOT_POSITIVE, dropout=NOT_A_RATE)),
    "patch": (layers.PatchEmbedding, dict(d_model=4), dict(
        d_model=NOT_POSITIVE, patch_len=NOT_POSITIVE, stride=NOT_POSITIVE, padding=NOT_A_PATCH_PADDING, dropout=NOT_A_RATE)),
    "revin": (layers.ReversibleInstanceNorm, dict(num_features=3), dict(num_features=NOT_POSITIVE, eps=NOT_AN_EPS)),
}


def core_message(err):
    """The layer's own message, without the wrapper Keras adds around errors in `call`."""
    text = str(err)
    found = re.search(r"\x1b\[1m(.*?)\x1b\[0m", text, re.S)
    return (found.group(1) if found else text).strip()


def assert_names(err, name):
    assert type(err) in (ValueError, TypeError), f"{type(err).__module__}.{type(err).__name__}: {err}"
    assert f"`{name}`" in core_message(err), str(err)


@pytest.mark.parametrize("layer", CONSTRUCTORS)
@SETTINGS
@given(data=st.data())
def test_invalid_arguments_raise_naming_the_argument(layer, data):
    cls, config, bad = CONSTRUCTORS[layer]
    name = data.draw(st.sampled_from(sorted(bad)))
    value = data.draw(bad[name])
    with pytest.raises((ValueError, TypeError)) as info:
        cls(**{**config, name: value})
    assert_names(info.value, name)


# -- invalid inputs -------------------------------------------------------------


def rank_other_than(draw, rank):
    return draw(st.sampled_from([r for r in (1, 2, 3, 4) if r != rank]))


@st.composite
def bad_token(draw):
    c_in, k = draw(small), draw(st.integers(4, 6))
    kind = draw(st.sampled_from(("rank", "width", "empty")))
    padding = draw(st.sampled_from(("same", "circular", "causal")))
    if kind == "rank":
        shape = (2, 5, c_in, 1)[: rank_other_than(draw, 3)]
    elif kind == "width":
        shape = (2, 5, c_in + draw(small))
    else:
        shape = (2, 0, c_in)
    config = dict(c_in=c_in, d_model=4, kernel_size=k, padding=padding)
    return Spec(layers.TokenEmbedding, config, (draw(values(shape)),), name="inputs")


@st.composite
def bad_positional(draw):
    max_len = draw(st.integers(1, 8))
    shape = draw(st.sampled_from([(3,), (1, max_len + draw(small))]))
    return Spec(layers.PositionalEmbedding, dict(max_len=max_len, d_model=4), (draw(values(shape)),), name="inputs")


@st.composite
def bad_indices(draw, cls, rank, config, sizes):
    kind = draw(st.sampled_from(("rank", "fraction", "nonfinite", "range")))
    shape = (2, 3, len(sizes))[:rank]
    if kind == "rank":
        shape = (2, 3, len(sizes), 1)[: rank_other_than(draw, rank)]
        x = np.zeros(shape, "int32")
    elif kind == "range":
        x = draw(index_values(shape, sizes, in_range=True))
        x = x.astype("int64")
        where = tuple(draw(st.integers(0, n - 1)) for n in shape)
        bad = draw(st.sampled_from([-1, -100, 1]))
        x[where] = bad if bad < 0 else np.broadcast_to(np.asarray(sizes), shape)[where] + draw(st.integers(0, 50))
        x = x.astype(draw(st.sampled_from(("int32", "int64", "float32", "float64"))))
        config = {**config, "out_of_range": "error"}
    else:
        x = np.ones(shape, draw(st.sampled_from(FLOATS)))
        where = tuple(draw(st.integers(0, n - 1)) for n in shape)
        x[where] = draw(st.sampled_from([0.5, 1.25, -2.5])) if kind == "fraction" else draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
    return Spec(cls, config, (x,), name="inputs")


@st.composite
def bad_temporal(draw):
    if draw(st.booleans()):
        return draw(bad_indices(layers.TemporalEmbedding, 3, dict(d_model=4), [s for _, s in mark_fields("h")]))
    freq = draw(st.sampled_from(("h", "t")))
    narrow = np.zeros((2, 3, draw(st.integers(1, 3 if freq == "h" else 4))), "int32")
    return Spec(layers.TemporalEmbedding, dict(d_model=4, freq=freq), (narrow,), name="inputs")


@st.composite
def bad_time_feature(draw):
    freq = draw(st.sampled_from(FREQS))
    width = FREQ_WIDTH[normalize_freq(freq)]
    shape = draw(st.sampled_from([(2, 3), (2, 3, width, 1), (2, 3, width + draw(small))]))
    return Spec(layers.TimeFeatureEmbedding, dict(d_model=4, freq=freq), (draw(values(shape)),), name="inputs")


@st.composite
def bad_data(draw):
    cls = draw(st.sampled_from((layers.DataEmbedding, layers.DataEmbeddingWithoutPosition)))
    embed_type = draw(st.sampled_from(("fixed", "timeF")))
    config = dict(c_in=3, d_model=4, embed_type=embed_type, max_len=8)
    x, marks = (2, 5, 3), (2, 5, 4)
    kind = draw(st.sampled_from(("x_rank", "x_width", "mark_rank", "mark_time", "mark_batch", "mark_width", "long")))
    name = "x_mark" if kind.startswith("mark") else "x"
    if kind == "x_rank":
        x = (2, 5)
    elif kind == "x_width":
        x = (2, 5, 3 + draw(small))
    elif kind == "mark_rank":
        marks = (2, 5)
    elif kind == "mark_time":
        marks = (2, draw(st.sampled_from((1, 4, 6))), 4)
    elif kind == "mark_batch":
        marks = (draw(st.sampled_from((1, 3))), 5, 4)
    elif kind == "mark_width":
        config["embed_type"], marks = "timeF", (2, 5, draw(st.sampled_from((3, 5))))
    elif cls is layers.DataEmbedding:
        x, marks = (2, 9, 3), (2, 9, 4)
    else:  # no position table, so long series are fine: ask for something else
        x = (2, 5, 2)
    return Spec(cls, config, (draw(values(x)), np.ones(marks, "int32")), name=name)


@st.composite
def bad_inverted(draw):
    x, marks = (2, 6, 3), (2, 6, 2)
    kind = draw(st.sampled_from(("x_rank", "x_time", "mark_time", "mark_batch", "mark_rank")))
    if kind == "x_rank":
        x = (2, 6)
    elif kind == "x_time":
        x, marks = (2, draw(st.sampled_from((1, 5, 7))), 3), None
    elif kind == "mark_time":
        marks = (2, 7, 2)
    elif kind == "mark_batch":
        marks = (draw(st.sampled_from((1, 3))), 6, 2)
    else:
        marks = (2, 6)
    inputs = (draw(values(x)),) + (() if marks is None else (draw(values(marks)),))
    return Spec(layers.DataEmbeddingInverted, dict(seq_len=6, d_model=4), inputs, name="x_mark" if "mark" in kind else "x")


@st.composite
def bad_patch(draw):
    patch_len = draw(st.integers(2, 8))
    shape = draw(st.sampled_from([(2, patch_len), (2, patch_len - 1, 3), (2, patch_len, 3, 1)]))
    return Spec(layers.PatchEmbedding, dict(d_model=4, patch_len=patch_len, stride=1), (draw(values(shape)),), name="inputs")


@st.composite
def bad_revin(draw):
    nf = draw(small)
    x = np.ones((2, 4, nf), "float32")
    stats = np.ones((2, 2, nf), "float32")
    kind = draw(st.sampled_from(("rank", "width", "mode", "stats", "feature_index", "return_stats")))
    if kind == "rank":
        return Spec(layers.ReversibleInstanceNorm, dict(num_features=nf), (np.ones((2, 4), "float32"),), name="inputs")
    if kind == "width":
        return Spec(layers.ReversibleInstanceNorm, dict(num_features=nf), (np.ones((2, 4, nf + 1), "float32"),), name="inputs")
    if kind == "mode":
        call = dict(mode=draw(NOT_A_CHOICE))
    elif kind == "stats":
        bad = draw(st.sampled_from([(2, 3, nf), (3, 2, nf), (2, 2, nf + 1), (2, 2)]))
        call = dict(mode=draw(st.sampled_from(("norm", "denorm"))), stats=np.ones(bad, "float32"))
    elif kind == "feature_index":
        call = dict(mode="denorm", stats=stats, feature_index=draw(st.sampled_from([-1, nf, 1.5, True, "0"])))
        x = x[..., :1]
    else:
        call = dict(mode="denorm", stats=stats, return_stats=True)
    return Spec(layers.ReversibleInstanceNorm, dict(num_features=nf), (x,), call, name=kind)


NON_NUMERIC = ("str", "object", "complex64", "datetime64[s]")


@st.composite
def non_numeric(draw, layer):
    """A valid call of `layer` with one input array turned into strings, objects, complex or dates."""
    spec = draw(VALID[layer])
    inputs = list(spec.inputs)
    i = draw(st.integers(0, len(inputs) - 1))
    dtype = draw(st.sampled_from(NON_NUMERIC))
    values = np.asarray(inputs[i])
    inputs[i] = values.astype("int64").astype(dtype) if dtype.startswith("datetime") else values.astype(dtype)
    names = [p for p in inspect.signature(spec.cls.call).parameters if p != "self"]
    return dataclasses.replace(spec, inputs=tuple(inputs), name=names[i])


INVALID = {
    "token": bad_token(),
    "positional": bad_positional(),
    "fixed": bad_indices(layers.FixedEmbedding, 2, dict(c_in=5, d_model=4), [5, 5, 5]),
    "temporal": bad_temporal(),
    "time_feature": bad_time_feature(),
    "data": bad_data(),
    "inverted": bad_inverted(),
    "patch": bad_patch(),
    "revin": bad_revin(),
    **{f"{layer}_non_numeric": non_numeric(layer) for layer in VALID},
}


@pytest.mark.parametrize("layer", INVALID)
@SETTINGS
@given(data=st.data())
def test_invalid_inputs_raise_naming_the_argument(layer, data):
    spec = data.draw(INVALID[layer])
    with pytest.raises((ValueError, TypeError)) as info:
        out = spec.run()
        pytest.fail(f"no error; output finite: {np.all(np.isfinite(to_numpy(out)))}")
    assert_names(info.value, spec.name)


# -- NaN/Inf in the values ------------------------------------------------------

# Layers that read values (calendar layers read indices: non-finite marks raise).
VALUE_LAYERS = ("token", "time_feature", "data", "data_wo_pos", "inverted", "patch", "revin")


@pytest.mark.parametrize("layer", VALUE_LAYERS)
@SETTINGS
@given(data=st.data(), bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_nan_and_inf_in_values_propagate_within_their_sample(layer, data, bad):
    spec = data.draw(VALID[layer])
    inputs = [np.asarray(a) for a in spec.inputs]
    if inputs[0].shape[0] < 2:
        inputs = [np.concatenate([a, a]) for a in inputs]
    x = inputs[0].astype(inputs[0].dtype if inputs[0].dtype.kind == "f" else "float32")
    # Every time step feeds some output, except patch steps between or after the windows.
    where = tuple(0 if layer == "patch" and axis == 0 else data.draw(st.integers(0, n - 1))
                  for axis, n in enumerate(x.shape[1:]))
    x[(0, *where)] = bad
    inputs = (x, *inputs[1:])
    out = to_numpy(spec.cls(**{**spec.config, **({"dropout": 0.0} if "dropout" in spec.config else {})})(*inputs))
    assert not np.all(np.isfinite(out[0])), "a non-finite value vanished"
    assert np.all(np.isfinite(out[1:])), "a non-finite value leaked into another sample"


# -- the same error on every backend --------------------------------------------


def error_probes():
    """Fixed bad calls (one per kind of mistake) whose errors every backend must phrase alike."""
    rng = np.random.default_rng(0)
    x = lambda *shape: rng.standard_normal(shape).astype("float32")  # noqa: E731
    L = layers
    return {
        "token_rank": lambda: L.TokenEmbedding(3, 4)(x(2, 5)),
        "token_width": lambda: L.TokenEmbedding(3, 4)(x(2, 5, 4)),
        "token_empty_time": lambda: L.TokenEmbedding(3, 4)(x(2, 0, 3)),
        "token_bad_initializer": lambda: L.TokenEmbedding(3, 4, kernel_initializer="nope"),
        "positional_too_long": lambda: L.PositionalEmbedding(4, d_model=4)(x(1, 5, 2)),
        "fixed_fraction": lambda: L.FixedEmbedding(5, 4)(np.array([[1.5, 2.0]], "float32")),
        "fixed_nan": lambda: L.FixedEmbedding(5, 4)(np.array([[np.nan, 2.0]], "float64")),
        "fixed_out_of_range": lambda: L.FixedEmbedding(5, 4, out_of_range="error")(np.array([[-1, 2]], "int64")),
        "temporal_narrow": lambda: L.TemporalEmbedding(4, freq="t")(np.zeros((1, 2, 4), "int32")),
        "temporal_out_of_range": lambda: L.TemporalEmbedding(4, out_of_range="error")(np.array([[[1, 1, 7, 0]]])),
        "temporal_bad_freq": lambda: L.TemporalEmbedding(4, freq="ms"),
        "time_feature_width": lambda: L.TimeFeatureEmbedding(4, freq="d")(x(1, 2, 4)),
        "data_mark_time": lambda: L.DataEmbedding(3, 4)(x(1, 5, 3), np.zeros((1, 4, 4), "int32")),
        "data_mark_batch": lambda: L.DataEmbedding(3, 4)(x(2, 5, 3), np.zeros((1, 5, 4), "int32")),
        "data_too_long": lambda: L.DataEmbedding(3, 4, max_len=4)(x(1, 5, 3)),
        "data_bad_dropout": lambda: L.DataEmbedding(3, 4, dropout=1.0),
        "inverted_time": lambda: L.DataEmbeddingInverted(5, 4)(x(2, 6, 3)),
        "inverted_mark_batch": lambda: L.DataEmbeddingInverted(5, 4)(x(2, 5, 3), x(1, 5, 4)),
        "patch_short": lambda: L.PatchEmbedding(4, patch_len=4, stride=2)(x(1, 3, 2)),
        "revin_bad_eps": lambda: L.ReversibleInstanceNorm(2, eps=float("inf")),
        "revin_mode": lambda: L.ReversibleInstanceNorm(2)(x(1, 5, 2), mode="x"),
        "revin_stats": lambda: L.ReversibleInstanceNorm(2)(x(1, 5, 2), mode="denorm", stats=x(1, 3, 2)),
        "revin_no_stats": lambda: L.ReversibleInstanceNorm(2)(x(1, 5, 2), mode="denorm"),
        "token_strings": lambda: L.TokenEmbedding(3, 4)(x(2, 5, 3).astype(str)),
        "temporal_numeric_strings": lambda: L.TemporalEmbedding(4)(np.ones((1, 2, 4), "int32").astype(str)),
        "data_object_marks": lambda: L.DataEmbedding(3, 4)(x(1, 5, 3), np.ones((1, 5, 4), "int32").astype(object)),
        "revin_complex_stats": lambda: L.ReversibleInstanceNorm(2)(
            x(1, 5, 2), mode="denorm", stats=x(1, 2, 2).astype("complex64")
        ),
    }


def error_signatures():
    """`{probe: [error class, message]}` on this process's backend."""
    out = {}
    for name, probe in error_probes().items():
        try:
            probe()
            out[name] = ["no error", ""]
        except Exception as err:  # noqa: BLE001 - recording whatever each backend raises is the point
            out[name] = [type(err).__name__, core_message(err)]
    return out


def test_error_probes_raise_value_or_type_errors_naming_an_argument():
    for name, (cls, message) in error_signatures().items():
        assert cls in ("ValueError", "TypeError"), (name, cls, message)
        assert re.search(r"`\w+`", message), (name, message)


def test_same_bad_input_gives_the_same_error_on_every_backend():
    here = keras.backend.backend()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = {
        other: subprocess.Popen(
            [sys.executable, "-m", "tests.test_properties"], cwd=root, env={**env, "KERAS_BACKEND": other},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for other in ("tensorflow", "jax", "torch")
        if other != here
    }
    expected = error_signatures()
    for other, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr[-2000:]
        got = json.loads(stdout.strip().splitlines()[-1])
        assert got == expected, f"{here} vs {other}: " + json.dumps(
            {k: (expected[k], got.get(k)) for k in expected if got.get(k) != expected[k]}, indent=1
        )


if __name__ == "__main__":
    print(json.dumps(error_signatures()))
