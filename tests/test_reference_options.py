"""Time-Series-Library's choices as options: PyTorch's initial draw, RevIN without affine,
PatchTST's BatchNorm and head dropout after the head."""

import keras
import numpy as np
import pytest

from kerasfactory.models import build_model

SIZES = dict(seq_len=32, pred_len=8, n_vars=3, mark_dim=4, freq="h", seed=0)
SMALL = dict(d_model=16, n_heads=2, n_layers=1, d_ff=32)


def dense_like(model):
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense))]


def test_torch_init_draws_dense_and_attention_weights_uniform_in_one_over_root_fan_in():
    model = build_model("itransformer", init="torch", **SIZES, **SMALL)
    checked = 0
    for layer in dense_like(model):
        if type(layer.kernel_initializer) is not keras.initializers.GlorotUniform:
            continue
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        fan_in = kernel.shape[0] if layer.name in ("query", "key", "value") else int(np.prod(kernel.shape[:-1]))
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.8 * bound, layer.path
        bias = keras.ops.convert_to_numpy(layer.bias)
        assert np.abs(bias).max() <= bound and np.abs(bias).max() > 0, layer.path
        checked += 1
    assert checked >= 7  # q, k, v, output, two feed-forward maps, the head


def test_torch_init_is_seeded_and_leaves_layers_with_their_own_initialiser_alone():
    first = build_model("itransformer", init="torch", **SIZES, **SMALL)
    again = build_model("itransformer", init="torch", **SIZES, **SMALL)
    plain = build_model("itransformer", **SIZES, **SMALL)
    for a, b in zip(first.weights, again.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    embedding = lambda m: keras.ops.convert_to_numpy(m.get_layer("embedding").weights[0])  # noqa: E731
    np.testing.assert_array_equal(embedding(first), embedding(plain))  # already drawn as PyTorch does


def test_unknown_init_is_rejected_naming_it():
    with pytest.raises(ValueError, match="`init` must be one of 'keras', 'torch', got 'xavier'"):
        build_model("itransformer", init="xavier", **SIZES, **SMALL)


@pytest.mark.parametrize("name", ["itransformer", "patchtst"])
def test_revin_without_affine_has_no_weights_and_still_follows_a_level_shift(name):
    model = build_model(name, revin_affine=False, **SIZES, **SMALL)
    assert not model.get_layer("revin").weights
    x = np.random.default_rng(0).normal(size=(2, 32, 3)).astype("float32")
    marks = np.zeros((2, 32, 4), "float32")
    shifted = keras.ops.convert_to_numpy(model([x + 100, marks]))
    np.testing.assert_allclose(shifted - 100, keras.ops.convert_to_numpy(model([x, marks])), atol=1e-3)


def test_patchtst_reference_head_drops_forecast_values_and_ends_the_encoder_in_batchnorm():
    model = build_model("patchtst", revin_affine=False, final_norm="batch", head_dropout=0.9,
                        head_dropout_position="after", patch_len=8, stride=8, **SIZES, **SMALL)
    assert isinstance(model.get_layer("encoder_norm"), keras.layers.BatchNormalization)
    x = np.random.default_rng(1).normal(size=(4, 32, 3)).astype("float32") * 2 + 5
    y = keras.ops.convert_to_numpy(model([x, np.zeros((4, 32, 4), "float32")], training=True))
    # A dropped forecast value is 0 in normalised units: the window's mean once denormalised.
    dropped = np.isclose(y, x.mean(axis=1, keepdims=True), atol=1e-4)
    assert 0.7 < dropped.mean() < 1.0


def test_bad_reference_option_values_name_the_option():
    with pytest.raises(ValueError, match="`final_norm` must be one of 'layer', 'batch'"):
        build_model("patchtst", final_norm="group", **SIZES, **SMALL)
    with pytest.raises(ValueError, match="`head_dropout_position` must be one of 'before', 'after'"):
        build_model("patchtst", head_dropout_position="middle", **SIZES, **SMALL)
    with pytest.raises(ValueError, match="`revin_affine`"):
        build_model("itransformer", revin_affine="no", **SIZES, **SMALL)
