"""Behaviour of FixedEmbedding, TemporalEmbedding and TimeFeatureEmbedding beyond the harness."""


import copy

import keras
import numpy as np
import pytest
import torch

from kerasfactory.layers import (
    FixedEmbedding,
    TemporalEmbedding,
    TimeFeatureEmbedding,
    TokenEmbedding,
    sinusoid_table,
)
from tests import reference_torch
from tests.cases_calendar import SIZES

FIELDS = ("month", "day", "weekday", "hour", "minute")

EAGER_ONLY = keras.backend.backend() == "torch"  # Keras runs PyTorch eagerly, even in predict

# Every field out of range on both sides, plus the extremes of int32.
BAD_MARKS = np.array(
    [[[13, 32, 7, 24, 4], [-1, -1, -1, -1, -1], [25, 70, -8, 49, -5], [2**31 - 1, -(2**31), 0, 0, 0]]],
    dtype="int32",
)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def predict(layer, x):
    """Runs `layer` inside a compiled function (functional model `predict`)."""
    inputs = keras.Input(shape=x.shape[1:], dtype=str(x.dtype))
    return keras.Model(inputs, layer(inputs)).predict(x, verbose=0)


def valid_marks(batch=2, time=6, dtype="int32", seed=0):
    rng = np.random.default_rng(seed)
    cols = [rng.integers(low, size, (batch, time)) for low, size in zip((1, 1, 0, 0, 0), SIZES)]
    return np.stack(cols, axis=-1).astype(dtype)


@pytest.mark.parametrize("embed_type", ["fixed", "learned"])
@pytest.mark.parametrize(
    "mode, remap", [("wrap", np.mod), ("clip", lambda x, s: np.clip(x, 0, s - 1))], ids=["wrap", "clip"]
)
def test_out_of_range_marks_follow_the_policy_eagerly_and_compiled(embed_type, mode, remap):
    layer = TemporalEmbedding(8, embed_type, "t", out_of_range=mode)  # "t": all five fields
    expected = numpy(layer(remap(BAD_MARKS.astype("int64"), np.array(SIZES)).astype("int32")))
    eager = numpy(layer(BAD_MARKS))
    compiled = predict(layer, BAD_MARKS)
    assert np.all(np.isfinite(eager)) and np.all(np.isfinite(compiled))
    np.testing.assert_allclose(eager, expected, atol=1e-6)
    np.testing.assert_allclose(compiled, expected, atol=1e-6)


@pytest.mark.parametrize(
    "column, field, valid, bad",
    [(0, "month", 12, -1), (1, "day", 31, "high"), (2, "weekday", 6, "high"), (3, "hour", 23, -1)],
)
def test_error_policy_names_field_valid_range_and_bad_value(column, field, valid, bad):
    x = valid_marks()
    x[1, 3, column] = valid + 1 if bad == "high" else bad
    message = rf"`inputs` field '{field}' \(column {column}\) must be in \[0, {valid}\], got {x[1, 3, column]} at index \(1, 3\)"
    with pytest.raises(ValueError, match=message):
        TemporalEmbedding(8, out_of_range="error")(x)


def test_error_policy_checks_minute_only_when_it_is_used():
    x = valid_marks()
    x[0, 0, 4] = 4
    TemporalEmbedding(8, freq="h", out_of_range="error")(x)
    with pytest.raises(ValueError, match=r"field 'minute' \(column 4\) must be in \[0, 3\], got 4"):
        TemporalEmbedding(8, freq="t", out_of_range="error")(x)


def test_error_policy_inside_compiled_function_raises_where_values_exist_else_clips():
    layer = TemporalEmbedding(8, "learned", out_of_range="error")
    clipped = TemporalEmbedding.from_config({**layer.get_config(), "out_of_range": "clip"})
    layer.build(BAD_MARKS.shape)
    clipped.build(BAD_MARKS.shape)
    clipped.set_weights(layer.get_weights())
    if EAGER_ONLY:
        with pytest.raises(ValueError, match="field 'month'"):
            predict(layer, BAD_MARKS)
    else:
        got = predict(layer, BAD_MARKS)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, numpy(clipped(BAD_MARKS)), atol=1e-6)


@pytest.mark.parametrize("mode", ["wrap", "clip", "error"])
def test_fixed_embedding_out_of_range_policy(mode):
    layer = FixedEmbedding(5, 4, out_of_range=mode)
    x = np.array([[0, 4, 5, -1, 12]], dtype="int32")
    table = sinusoid_table(5, 4)
    if mode == "error":
        with pytest.raises(ValueError, match=r"`inputs` must be in \[0, 4\], got 5 at index \(0, 2\)"):
            layer(x)
        return
    rows = np.mod(x, 5) if mode == "wrap" else np.clip(x, 0, 4)
    np.testing.assert_allclose(numpy(layer(x)), table[rows], atol=1e-7)
    np.testing.assert_allclose(predict(layer, x), table[rows], atol=1e-7)


@pytest.mark.parametrize("mode", ["wrap", "clip", "error"])
def test_columns_past_the_fields_never_change_the_output_eagerly_or_compiled(mode):
    extra = np.broadcast_to(np.array([-(2**31), 2**31 - 1, -5, 99], "int32"), (2, 6, 4))
    marks = np.concatenate([valid_marks()[..., :4], extra], -1)
    layer = TemporalEmbedding(8, "fixed", "h", out_of_range=mode)
    expected = numpy(layer(marks[..., :4]))
    np.testing.assert_allclose(numpy(layer(marks)), expected, atol=1e-6)
    np.testing.assert_allclose(predict(layer, marks), expected, atol=1e-6)


def test_fixed_layers_of_the_same_size_give_the_same_output_eagerly_and_compiled():
    marks = valid_marks()
    first, second = TemporalEmbedding(8, freq="t"), TemporalEmbedding(8, freq="t")
    compiled = predict(first, marks)  # traced first on JAX and TensorFlow
    np.testing.assert_allclose(numpy(first(marks)), compiled, atol=1e-6)
    np.testing.assert_array_equal(numpy(second(marks)), numpy(first(marks)))


def test_fixed_embedding_is_the_shared_sinusoid_table_and_holds_no_weights():
    layer = FixedEmbedding(13, 6)
    out = numpy(layer(np.arange(13, dtype="int32")[None]))
    np.testing.assert_array_equal(out[0], sinusoid_table(13, 6))
    assert layer.weights == [] and layer.trainable_weights == []


def test_integral_float_marks_equal_integer_marks_and_non_integral_floats_raise():
    x = valid_marks()
    layer = TemporalEmbedding(8, "learned", "t")
    np.testing.assert_allclose(numpy(layer(x.astype("float32"))), numpy(layer(x)), atol=1e-6)
    for bad in (1.5, np.nan, np.inf):
        y = x.astype("float32")
        y[0, 2, 1] = bad
        with pytest.raises(ValueError, match=r"`inputs` must hold integral values, got .* at index \(0, 2, 1\)"):
            layer(y)
    with pytest.raises(ValueError, match="integral values, got 2.5"):
        FixedEmbedding(4, 4)(np.array([[2.5]], dtype="float32"))


def test_non_integral_floats_in_compiled_code_are_truncated_never_nan():
    layer = TemporalEmbedding(8)
    x = valid_marks(dtype="float32")
    y = x.copy()
    y[..., 3] += 0.7
    y[0, 0, 0] = np.nan
    if EAGER_ONLY:
        with pytest.raises(ValueError, match="integral values"):
            predict(layer, y)
        return
    expected = x.copy()
    expected[0, 0, 0] = 0
    got = predict(layer, y)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, numpy(layer(expected)), atol=1e-6)


def test_minute_field_only_for_minutely_freq_with_buckets_that_follow_the_step():
    x = valid_marks()
    y = x.copy()
    y[..., 4] = (y[..., 4] + 1) % 2
    hourly = TemporalEmbedding(8, freq="h")
    np.testing.assert_array_equal(numpy(hourly(x)), numpy(hourly(y)))
    assert not hasattr(hourly, "minute_embed")
    for freq, buckets in (("t", 4), ("15min", 4), ("30min", 2), ("5min", 12), ("min", 60), ("7min", 4)):
        minutely = TemporalEmbedding(8, freq=freq)
        assert minutely.minute_embed.c_in == buckets, freq
        assert not np.allclose(numpy(minutely(x)), numpy(minutely(y)))
    assert tuple(TemporalEmbedding(8, freq="d")(x[..., :4]).shape) == (2, 6, 8)


def test_secondly_freq_embeds_minute_and_second_from_six_columns():
    layer = TemporalEmbedding(8, "learned", "10s")
    assert [(f, getattr(layer, f"{f}_embed").input_dim) for f in ("minute", "second")] == [("minute", 60), ("second", 60)]
    x = np.concatenate([valid_marks()[..., :4], np.full((2, 6, 2), 59, "int32")], -1)
    total = sum(numpy(getattr(layer, f"{f}_embed")(x[..., i])) for i, f in enumerate((*FIELDS, "second")))
    np.testing.assert_allclose(numpy(layer(x)), total, atol=1e-6)
    with pytest.raises(ValueError, match=r"last dimension must be >= 6 .*'second'.*got 5"):
        layer(x[..., :5])


def test_sub_layers_carry_the_reference_names_and_sizes():
    layer = TemporalEmbedding(8, "learned", "t")
    layer.build((None, None, 5))
    for field, size in zip(FIELDS, SIZES):
        sub = getattr(layer, f"{field}_embed")
        assert isinstance(sub, keras.layers.Embedding) and sub.name == f"{field}_embed"
        assert tuple(sub.embeddings.shape) == (size, 8)
    fixed = TemporalEmbedding(8, "fixed", "t")
    assert [type(getattr(fixed, f"{f}_embed")) for f in ("month", "minute")] == [FixedEmbedding] * 2


def test_fixed_sub_layers_are_tracked_lookups_whose_sum_is_the_call_and_survive_copy_and_save(tmp_path):
    x = valid_marks()
    layer = TemporalEmbedding(8, "fixed", "t")
    total = sum(numpy(getattr(layer, f"{f}_embed")(x[..., i])) for i, f in enumerate(FIELDS))
    np.testing.assert_allclose(numpy(layer(x)), total, atol=1e-6)
    assert layer.hour_embed.c_in == 24 and not layer.weights
    assert {f"{f}_embed" for f in FIELDS} <= {sub.name for sub in layer._layers}
    assert copy.deepcopy(layer).minute_embed.c_in == 4
    inp = keras.Input((None, 5), dtype="int32")
    model = keras.Model(inp, layer(inp))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(numpy(loaded(x)), numpy(model(x)))
    with pytest.raises(AttributeError, match="second_embed"):
        layer.second_embed


def torch_long(x):
    return torch.from_numpy(np.asarray(x, dtype="int64"))


@pytest.mark.parametrize("c_in, d_model", [(4, 8), (13, 7), (32, 16)])
def test_fixed_embedding_matches_reference(c_in, d_model):
    x = np.random.default_rng(0).integers(0, c_in, (3, 11))
    ref = reference_torch.FixedEmbedding(c_in, d_model)(torch_long(x)).numpy()
    assert np.max(np.abs(numpy(FixedEmbedding(c_in, d_model)(x.astype("int32"))) - ref)) <= 1e-5


@pytest.mark.parametrize("embed_type", ["fixed", "learned"])
@pytest.mark.parametrize("freq", ["h", "t"])
def test_temporal_embedding_matches_reference_with_the_same_weights(embed_type, freq):
    torch.manual_seed(0)
    ref = reference_torch.TemporalEmbedding(16, embed_type, freq)
    layer = TemporalEmbedding(16, embed_type, freq)
    x = valid_marks(3, 10, seed=1)
    layer.build(x.shape)
    if embed_type == "learned":
        for field, _ in layer._fields:
            getattr(layer, f"{field}_embed").embeddings.assign(getattr(ref, f"{field}_embed").weight.detach().numpy())
    expected = ref(torch_long(x)).detach().numpy()
    for marks in (x, x.astype("float32")):
        assert np.max(np.abs(numpy(layer(marks)) - expected)) <= 1e-5


@pytest.mark.parametrize("freq", ["h", "t", "s", "a"])
def test_time_feature_embedding_matches_reference_with_the_same_weights(freq):
    torch.manual_seed(0)
    ref = reference_torch.TimeFeatureEmbedding(16, freq)
    layer = TimeFeatureEmbedding(16, freq)
    width = reference_torch.FREQ_WIDTH[freq]
    x = np.random.default_rng(2).uniform(-0.5, 0.5, (3, 10, width)).astype("float32")
    layer.build(x.shape)
    layer.embed.kernel.assign(ref.embed.weight.detach().numpy().T)
    expected = ref(torch.from_numpy(x)).detach().numpy()
    assert np.max(np.abs(numpy(layer(x)) - expected)) <= 1e-5


def test_time_feature_embedding_rejects_a_mismatching_width_naming_both():
    with pytest.raises(ValueError, match=r"timeF width of freq='h', 4, got 5"):
        TimeFeatureEmbedding(8, "h")(np.zeros((1, 3, 5), "float32"))
    with pytest.raises(ValueError, match=r"timeF width of freq='30min', 5, got 4"):
        TimeFeatureEmbedding(8, "30min")(keras.Input((3, 4)))
    assert TimeFeatureEmbedding(8, "30min").embed.use_bias is False


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TemporalEmbedding(0), "`d_model` must be a positive integer, got 0"),
        (lambda: TemporalEmbedding(8, embed_type="timeF"), "`embed_type` must be one of 'fixed', 'learned', got 'timeF'"),
        (lambda: TemporalEmbedding(8, freq="ms"), "`freq` must be .*got 'ms'"),
        (lambda: TemporalEmbedding(8, out_of_range="ignore"), "`out_of_range` must be one of 'wrap', 'clip', 'error'"),
        (lambda: FixedEmbedding(0, 8), "`c_in` must be a positive integer, got 0"),
        (lambda: FixedEmbedding(4, 2.5), "`d_model` must be a positive integer, got 2.5"),
        (lambda: TimeFeatureEmbedding(8, freq="bh"), "`freq` must be .*got 'bh'"),
    ],
)
def test_bad_arguments_raise_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (lambda: TemporalEmbedding(8), (2, 6), "`inputs` must have rank 3"),
        (lambda: TemporalEmbedding(8), (2, 6, 3), r"last dimension must be >= 4 .*got 3"),
        (lambda: TemporalEmbedding(8, freq="t"), (2, 6, 4), r"last dimension must be >= 5 .*'minute'.*got 4"),
        (
            lambda: TemporalEmbedding(8, extra_fields=[("holiday", 2)]),
            (2, 6, 4),
            r"last dimension must be >= 5 .*'hour', 'holiday'\] for freq='h'\), got 4",
        ),
        (lambda: FixedEmbedding(4, 8), (2, 6, 1), "`inputs` must have rank 2"),
        (lambda: TimeFeatureEmbedding(8), (2, 4), "`inputs` must have rank 3"),
    ],
)
def test_bad_input_shapes_raise_naming_the_input(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(np.zeros(shape, "int32"))
