"""Behaviour of TokenEmbedding beyond the shared harness."""

import json

import keras
import numpy as np
import pytest
import torch

from kerasfactory.layers import TokenEmbedding
from tests import reference_torch

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype("float32")


def numpy_conv(x, kernel, bias, padding):
    """A direct loop implementation of the documented formula."""
    k = kernel.shape[0]
    total = k - 1
    left = total if padding == "causal" else total // 2
    right = total - left
    if padding == "circular":
        xp = np.take(x, np.arange(-left, x.shape[1] + right) % x.shape[1], axis=1)
    else:
        xp = np.pad(x, [(0, 0), (left, right), (0, 0)])
    out = np.zeros((x.shape[0], x.shape[1], kernel.shape[2]), dtype=np.float64)
    for t in range(x.shape[1]):
        out[:, t] = np.einsum("bkc,kcd->bd", xp[:, t : t + k], kernel)
    return out + (0 if bias is None else bias)


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("time", [9, 2, 1])
def test_output_follows_the_padding_formula_and_keeps_time(padding, kernel_size, time):
    # time 1 and 2 with kernel 4 or 5: the padding is longer than the series (circular wraps more than once).
    layer = TokenEmbedding(3, 5, kernel_size=kernel_size, padding=padding, bias_initializer="random_normal")
    x = randn(2, time, 3)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.shape == (2, time, 5)
    kernel = keras.ops.convert_to_numpy(layer.conv.kernel)
    bias = keras.ops.convert_to_numpy(layer.conv.bias)
    np.testing.assert_allclose(out, numpy_conv(x, kernel, bias, padding), atol=1e-5)


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
@pytest.mark.parametrize("compiled", [False, True])
def test_a_non_finite_step_reaches_only_the_outputs_that_read_it(padding, compiled):
    layer = TokenEmbedding(3, 4, padding=padding)
    x = randn(2, 9, 3)
    x[0, 8, 1], x[1, 0, 2] = np.nan, np.inf
    if compiled:
        out = keras.Sequential([keras.Input((9, 3)), layer]).predict(x, verbose=0)
    else:
        out = keras.ops.convert_to_numpy(layer(x))
    left = 2 if padding == "causal" else 1
    for sample, step in [(0, 8), (1, 0)]:
        reads = {t for t in range(9) for j in range(3)
                 if (t + j - left) % 9 == step and (padding == "circular" or 0 <= t + j - left < 9)}
        assert set(np.nonzero(~np.isfinite(out[sample]))[0].tolist()) == reads


def test_the_convolution_is_the_conv1d_sub_layer_so_lora_applies():
    layer = TokenEmbedding(3, 4, padding="circular")
    x = randn(2, 9, 3)
    before = keras.ops.convert_to_numpy(layer(x))
    layer.conv.enable_lora(2)
    layer.conv.lora_kernel_b.assign(np.ones((2, 4), "float32"))
    after = keras.ops.convert_to_numpy(layer(x))
    assert after.shape == before.shape and not np.allclose(after, before)
    kernel = keras.ops.convert_to_numpy(layer.conv.kernel)  # the merged kernel
    np.testing.assert_allclose(after, numpy_conv(x, kernel, keras.ops.convert_to_numpy(layer.conv.bias), "circular"),
                               atol=1e-4)


@pytest.mark.parametrize("kernel_size", [2, 3, 4])
def test_causal_padding_never_reads_the_future(kernel_size):
    layer = TokenEmbedding(2, 4, kernel_size=kernel_size, padding="causal")
    x = randn(1, 12, 2)
    base = keras.ops.convert_to_numpy(layer(x))
    for t in range(12):
        changed = x.copy()
        changed[:, t + 1 :] += 100.0
        out = keras.ops.convert_to_numpy(layer(changed))
        np.testing.assert_allclose(out[:, : t + 1], base[:, : t + 1], atol=1e-5)
        if t + 1 < 12:
            assert not np.allclose(out[:, t + 1], base[:, t + 1])


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
@pytest.mark.parametrize("kernel_size", [2, 3])
def test_matches_torch_reference_with_same_weights(padding, kernel_size):
    ref = reference_torch.TokenEmbedding(7, 16, kernel_size=kernel_size, padding=padding, bias=True)
    layer = TokenEmbedding(7, 16, kernel_size=kernel_size, padding=padding)
    x = randn(4, 30, 7)
    layer(x)
    layer.conv.kernel.assign(ref.tokenConv.weight.detach().numpy().transpose(2, 1, 0))
    layer.conv.bias.assign(ref.tokenConv.bias.detach().numpy())
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-5)


def test_default_is_learnable_bias_he_normal_same_padding():
    layer = TokenEmbedding(c_in=16, d_model=2048)
    layer(randn(1, 8, 16))
    assert layer.padding == "same" and layer.kernel_size == 3
    assert [w.shape for w in layer.trainable_weights] == [(3, 16, 2048), (2048,)]
    kernel = keras.ops.convert_to_numpy(layer.conv.kernel)
    # Kaiming normal (truncated in Keras): std close to sqrt(2 / fan_in), fan_in = 3 * 16.
    assert abs(kernel.std() / np.sqrt(2 / 48) - 1) < 0.1
    assert np.all(keras.ops.convert_to_numpy(layer.conv.bias) == 0)


def test_conv_exists_at_construction_and_assigned_initializer_is_used():
    layer = TokenEmbedding(c_in=8, d_model=64)
    assert isinstance(layer.conv, keras.layers.Conv1D)
    layer.conv.kernel_initializer = keras.initializers.Constant(0.5)
    layer(randn(2, 10, 8))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.conv.kernel), 0.5)


def test_same_instance_serves_any_time_length_and_symbolic_none_time():
    layer = TokenEmbedding(c_in=7, d_model=64)
    assert layer(randn(32, 96, 7)).shape == (32, 96, 64)
    assert layer(randn(32, 200, 7)).shape == (32, 200, 64)
    inputs = keras.Input((None, 7))
    model = keras.Model(inputs, layer(inputs))
    assert model.outputs[0].shape == (None, None, 64)
    assert model.predict(randn(3, 17, 7), verbose=0).shape == (3, 17, 64)


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
def test_functional_model_with_free_time_axis_matches_eager(padding):
    layer = TokenEmbedding(3, 4, padding=padding)
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, layer(inputs))
    x = randn(2, 11, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), keras.ops.convert_to_numpy(layer(x)), atol=1e-5)


def test_integer_inputs_are_cast_to_compute_dtype():
    layer = TokenEmbedding(3, 4)
    x = np.arange(2 * 5 * 3, dtype="int32").reshape(2, 5, 3)
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(layer(x.astype("float32"))), atol=1e-5
    )


def test_compute_output_shape():
    assert TokenEmbedding(7, 32).compute_output_shape((None, None, 7)) == (None, None, 32)


def test_config_with_regularizer_and_initializers_round_trips_json():
    layer = TokenEmbedding(
        7, 32, kernel_size=5, padding="causal", use_bias=False,
        kernel_initializer="glorot_uniform", kernel_regularizer=keras.regularizers.L2(1e-3),
    )
    clone = TokenEmbedding.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.get_config() == layer.get_config()
    clone(randn(1, 4, 7))
    assert len(clone.losses) == 1


@pytest.mark.parametrize(
    "kwargs, names",
    [
        ({"c_in": 0, "d_model": 8}, ["`c_in`", "positive integer", "0"]),
        ({"c_in": 7.5, "d_model": 8}, ["`c_in`", "7.5"]),
        ({"c_in": True, "d_model": 8}, ["`c_in`", "True"]),
        ({"c_in": 7, "d_model": -1}, ["`d_model`", "-1"]),
        ({"c_in": 7, "d_model": "64"}, ["`d_model`", "'64'"]),
        ({"c_in": 7, "d_model": 8, "kernel_size": 0}, ["`kernel_size`", "0"]),
        ({"c_in": 7, "d_model": 8, "padding": "valid"}, ["`padding`", "'same'", "'circular'", "'causal'", "'valid'"]),
    ],
)
def test_bad_arguments_raise_value_error_at_construction(kwargs, names):
    with pytest.raises(ValueError) as info:
        TokenEmbedding(**kwargs)
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "shape, names",
    [((2, 10), ["`inputs`", "rank 3", "rank 2"]), ((2, 10, 5), ["`c_in`=7", "got 5"]), ((2, 3, 10, 7), ["rank 3", "rank 4"])],
)
def test_bad_input_shapes_raise_value_error_naming_the_input(shape, names):
    layer = TokenEmbedding(7, 8)
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, dtype="float32"))
    for name in names:
        assert name in str(info.value)


def test_bad_input_after_build_still_raises_the_same_error():
    layer = TokenEmbedding(7, 8)
    layer(randn(1, 4, 7))
    with pytest.raises(ValueError, match="`c_in`=7, got 5"):
        layer(randn(1, 4, 5))
