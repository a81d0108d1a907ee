"""Behaviour of PositionalEmbedding and the shared sinusoid table."""

import math

import keras
import numpy as np
import pytest
import torch

from kerasfactory.layers import PositionalEmbedding, sinusoid_table
from tests import reference_torch


def test_table_follows_the_formula():
    table = sinusoid_table(50, 6)
    for p in (0, 1, 17, 49):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert table[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-5)
    assert table.dtype == np.float32


def test_odd_d_model_ends_in_a_sine_column():
    table = sinusoid_table(10, 5)
    assert table.shape == (10, 5)
    np.testing.assert_allclose(table[:, 4], np.sin(np.arange(10) / 10000 ** (4 / 5)), atol=1e-6)


def test_matches_torch_reference_with_same_table():
    expected = reference_torch.PositionalEmbedding(512, max_len=5000)(torch.zeros(1, 720, 1)).numpy()
    got = keras.ops.convert_to_numpy(PositionalEmbedding(5000, d_model=512)(np.zeros((1, 720, 1), "float32")))
    np.testing.assert_allclose(got[:, :96], expected[:, :96], atol=1e-5)
    # Further out the float32 angle's own rounding (ulp 6e-5 at 720) dominates: torch's
    # float32 exp is one ulp off for one frequency of d_model=512, so allow half an angle ulp.
    np.testing.assert_allclose(got, expected, atol=3.1e-5)


def test_every_entry_is_the_rounded_sine_of_the_float32_angle_up_to_position_5000():
    table = sinusoid_table(5000, 8)
    exponent = np.arange(0, 8, 2, dtype=np.float32) * np.float32(-math.log(10000.0) / 8)
    div = np.float32(np.exp(np.float64(exponent)))
    angles = np.arange(5000, dtype=np.float32)[:, None] * div
    np.testing.assert_array_equal(table[:, 0::2], np.sin(angles.astype(np.float64)).astype(np.float32))
    np.testing.assert_array_equal(table[:, 1::2], np.cos(angles.astype(np.float64)).astype(np.float32))


def test_returns_the_first_time_rows_broadcastable_against_the_input():
    layer = PositionalEmbedding(max_len=96, d_model=64)
    x = keras.random.normal((3, 40, 64))
    pe = layer(x)
    assert pe.shape == (1, 40, 64)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pe)[0], sinusoid_table(96, 64)[:40], atol=1e-7)
    assert (x + pe).shape == (3, 40, 64)


def test_has_no_weights_and_the_keras_file_does_not_grow_with_max_len(tmp_path):
    sizes = []
    for max_len in (10, 5000):
        inputs = keras.Input((8, 4))
        model = keras.Model(inputs, inputs + PositionalEmbedding(max_len, d_model=4)(inputs))
        assert model.weights == []
        path = tmp_path / f"pe{max_len}.keras"
        model.save(path)
        sizes.append(path.stat().st_size)
    assert abs(sizes[1] - sizes[0]) < 200


def test_time_longer_than_max_len_names_both_numbers():
    with pytest.raises(ValueError, match="`max_len`=10, got 11"):
        PositionalEmbedding(10, d_model=4)(np.zeros((1, 11, 4), "float32"))


def test_free_time_axis_in_a_functional_model():
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, inputs + PositionalEmbedding(100, d_model=4)(inputs))
    out = model.predict(np.zeros((2, 7, 4), "float32"), verbose=0)
    np.testing.assert_allclose(out[1], sinusoid_table(7, 4), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_len": 0, "d_model": 4}, "`max_len` must be a positive integer, got 0"),
        ({"max_len": 10, "d_model": 2.5}, "`d_model` must be a positive integer, got 2.5"),
    ],
)
def test_bad_arguments_raise_value_error_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PositionalEmbedding(**kwargs)


def test_d_model_is_required():
    with pytest.raises(TypeError, match="d_model"):
        PositionalEmbedding(10)
