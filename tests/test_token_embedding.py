"""Behaviour of TokenEmbedding beyond the shared harness."""

import json

import keras
import numpy as np
import pytest
import torch

from kerasfactory.layers import TokenEmbedding, checks
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


def eager_bodies(layer, x, time):
    """The outputs of every body `layer` can run eagerly on `x`, the gather first."""
    return [body() for body in layer._eager_bodies(x, time).values()]


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
@pytest.mark.parametrize("kernel_size", [2, 3, 5])
@pytest.mark.parametrize("time", [9, 2])
@pytest.mark.parametrize("use_bias", [True, False])
def test_every_eager_body_gives_the_same_output_on_every_backend(padding, kernel_size, time, use_bias):
    # Each backend runs one body eagerly (chosen by speed: the conv for "same" padding, the
    # rolls for any padding, or the gather); all must stay exact everywhere.
    layer = TokenEmbedding(
        3, 5, kernel_size=kernel_size, padding=padding, use_bias=use_bias, bias_initializer="random_normal"
    )
    x = keras.ops.convert_to_tensor(randn(2, time, 3))
    layer(x)
    gather, *others = (keras.ops.convert_to_numpy(out) for out in eager_bodies(layer, x, time))
    assert others
    for other in others:
        np.testing.assert_allclose(other, gather, atol=1e-5)


@pytest.mark.parametrize("padding", ["same", "circular", "causal"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_every_eager_body_sends_a_non_finite_step_only_to_the_outputs_that_read_it(padding, use_bias):
    # The rolls wrap around before zero padding masks the wrapped steps: a product with
    # 0 would turn a NaN at the last step into a NaN at the first output.
    layer = TokenEmbedding(3, 4, padding=padding, use_bias=use_bias)
    x = randn(2, 9, 3)
    x[0, 8, 1], x[1, 0, 2] = np.nan, np.inf
    x = keras.ops.convert_to_tensor(x)
    layer(x)
    left = layer._margins()[0]
    bodies = eager_bodies(layer, x, 9)
    for sample, step in [(0, 8), (1, 0)]:
        reads = {t for t in range(9) for j in range(3)
                 if (t + j - left) % 9 == step and (padding == "circular" or 0 <= t + j - left < 9)}
        for out in bodies:
            bad = set(np.nonzero(~np.isfinite(keras.ops.convert_to_numpy(out)[sample]))[0].tolist())
            assert bad == reads


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


def test_compiled_calls_take_the_traced_path_and_eager_calls_do_not(monkeypatch):
    # The 2-D matmul that XLA differentiates fast is chosen by `checks.traced`;
    # if a backend renamed its tracer class, compiled training would silently slow down.
    seen = []
    real = checks.traced
    monkeypatch.setattr(checks, "traced", lambda x: seen.append(real(x)) or seen[-1])
    layer = TokenEmbedding(3, 4)
    x = randn(2, 5, 3)
    layer(x)
    assert seen == [False]
    model = keras.Sequential([keras.Input((5, 3)), layer])
    seen.clear()
    model.predict(x, verbose=0)
    compiled = keras.backend.backend() != "torch"  # Keras runs torch eagerly
    assert seen and all(flag == compiled for flag in seen)


def test_gather_steps_are_made_once_per_length_and_never_kept_from_a_trace():
    from kerasfactory.layers import indices, tables

    tables._LOOKUP_TABLES.clear()
    layer = TokenEmbedding(3, 4, padding="circular")
    x = randn(2, 13, 3)
    compiled = keras.Sequential([keras.Input((13, 3)), layer]).predict(x, verbose=0)  # traced first
    assert not any(checks.traced(t) for t in tables._LOOKUP_TABLES.values())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), compiled, atol=1e-5)
    like = keras.ops.convert_to_tensor(x)
    steps = indices.window_steps(13, 1, [-1, 0, 1], 13, "wrap", like)
    assert indices.window_steps(13, 1, np.array([-1, 0, 1]), 13, "wrap", like) is steps
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(steps), (np.arange(13)[:, None] + [-1, 0, 1]) % 13)
    longer = indices.window_steps(14, 1, [-1, 0, 1], 14, "wrap", like)
    assert keras.ops.convert_to_numpy(longer)[-1].tolist() == [12, 13, 0]


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
