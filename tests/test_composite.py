"""Behaviour of the composite layers beyond the shared harness: reference
parity, patch counts, errors, and RevIN's round trip in every kind of model."""

import keras
import numpy as np
import pytest
import torch
from keras import ops

from kerasfactory.layers import (
    DataEmbedding,
    DataEmbeddingInverted,
    DataEmbeddingWithoutPosition,
    PatchEmbedding,
    ReversibleInstanceNorm,
    validation,
)
from tests import reference_torch

rng = np.random.default_rng(0)


def randn(*shape, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype("float32")


def marks(batch, time, width=4):
    highs = np.array([13, 32, 7, 24, 4][:width])
    return (rng.random((batch, time, width)) * highs).astype("int32")


def timef(batch, time, width=4):
    return (rng.random((batch, time, width)) - 0.5).astype("float32")


def numpy(x):
    return ops.convert_to_numpy(x)


def torch_out(module, *arrays):
    module.eval()
    with torch.no_grad():
        out = module(*[None if a is None else torch.from_numpy(a) for a in arrays])
    return out


def t2n(p):
    return p.detach().numpy()


# -- DataEmbedding ----------------------------------------------------------


def copy_data_embedding(layer, ref):
    layer.value_embedding.conv.kernel.assign(t2n(ref.value_embedding.tokenConv.weight).transpose(2, 1, 0))
    if layer.embed_type == "timeF":
        layer.temporal_embedding.embed.kernel.assign(t2n(ref.temporal_embedding.embed.weight).T)
    elif layer.embed_type == "learned":
        for name, module in ref.temporal_embedding.named_children():
            getattr(layer.temporal_embedding, name).embeddings.assign(t2n(module.weight))


DATA_CONFIGS = [("fixed", "h", 4), ("fixed", "t", 5), ("learned", "h", 4), ("learned", "t", 5), ("timeF", "h", 4)]


@pytest.mark.parametrize("with_marks", [True, False], ids=["marks", "nomarks"])
@pytest.mark.parametrize("embed_type,freq,width", DATA_CONFIGS)
@pytest.mark.parametrize("cls", [DataEmbedding, DataEmbeddingWithoutPosition])
def test_data_embedding_matches_torch_reference(cls, embed_type, freq, width, with_marks):
    ref = getattr(reference_torch, cls.__name__)(5, 16, embed_type, freq, dropout=0.0)
    layer = cls(5, 16, embed_type=embed_type, freq=freq, dropout=0.0, padding="circular", use_bias=False)
    x = randn(3, 20, 5)
    x_mark = (timef(3, 20, width) if embed_type == "timeF" else marks(3, 20, width)) if with_marks else None
    layer(x, x_mark)
    copy_data_embedding(layer, ref)
    expected = torch_out(ref, x, x_mark).numpy()
    np.testing.assert_allclose(numpy(layer(x, x_mark)), expected, atol=1e-5)


def test_data_embedding_without_position_is_data_embedding_minus_the_position_table():
    x, x_mark = randn(2, 10, 3), marks(2, 10)
    with_pos = DataEmbedding(3, 8, dropout=0.0)
    without = DataEmbeddingWithoutPosition(3, 8, dropout=0.0)
    with_pos(x, x_mark), without(x, x_mark)
    without.set_weights(with_pos.get_weights())
    diff = numpy(with_pos(x, x_mark)) - numpy(without(x, x_mark))
    np.testing.assert_allclose(diff, numpy(with_pos.position_embedding(x))[0][None].repeat(2, 0), atol=1e-5)
    assert without.position_embedding is None


def test_data_embedding_is_callable_with_and_without_marks_on_one_layer():
    layer = DataEmbedding(3, 8, embed_type="learned", dropout=0.0)
    x, x_mark = randn(2, 10, 3), marks(2, 10)
    plain = numpy(layer(x))
    both = numpy(layer(x, x_mark))
    np.testing.assert_allclose(both - plain, numpy(layer.temporal_embedding(x_mark)), atol=1e-5)
    inputs = keras.Input((10, 3)), keras.Input((10, 4), dtype="int32")
    model = keras.Model(list(inputs), [layer(inputs[0]), layer(*inputs)])
    got_plain, got_both = model.predict([x, x_mark], verbose=0)
    np.testing.assert_allclose(got_plain, plain, atol=1e-5)
    np.testing.assert_allclose(got_both, both, atol=1e-5)


def test_data_embedding_dropout_acts_only_in_training():
    layer = DataEmbedding(3, 64, dropout=0.5)
    x = randn(2, 10, 3)
    np.testing.assert_array_equal(numpy(layer(x)), numpy(layer(x, training=False)))
    assert np.mean(numpy(layer(x, training=True)) == 0) > 0.3


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: DataEmbedding(3, 16, dropout=0.5, seed=seed),
        lambda seed: DataEmbeddingInverted(10, 16, dropout=0.5, seed=seed),
        lambda seed: PatchEmbedding(16, patch_len=4, stride=2, dropout=0.5, seed=seed),
    ],
)
def test_seeded_dropout_masks_repeat_on_every_backend(make):
    # PyTorch's unseeded dropout draws from torch's global generator, which no
    # saved state restores; a seed puts the mask sequence in the layer's own state.
    x = randn(2, 10, 3)
    first, second = make(7), make(7)
    for _ in range(2):
        dropped = numpy(first(x, training=True)) == 0  # the weights differ, the masks must not
        assert 0.3 < dropped.mean() < 0.7
        np.testing.assert_array_equal(dropped, numpy(second(x, training=True)) == 0)
    assert make(7).get_config()["seed"] == 7


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: DataEmbedding(3, 8, seed=-1), "`seed` must be None or a non-negative integer, got -1"),
        (lambda: DataEmbeddingInverted(8, 8, seed=1.5), "`seed` must be None or a non-negative integer, got 1.5"),
        (lambda: PatchEmbedding(8, seed="0"), "`seed` must be None or a non-negative integer, got '0'"),
        (lambda: DataEmbedding(3, 8, embed_type="timef"), "`embed_type` must be one of"),
        (lambda: DataEmbedding(0, 8), "`c_in` must be a positive integer"),
        (lambda: DataEmbedding(3, 8, dropout=1.0), "`dropout` must be a float in"),
        (lambda: DataEmbedding(3, 8, padding="reflect"), "`padding` must be one of"),
        (lambda: DataEmbedding(3, 8, embed_type="timeF", freq="x"), "`freq` must be"),
    ],
)
def test_data_embedding_rejects_bad_arguments_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_data_embedding_rejects_mismatched_inputs():
    layer = DataEmbedding(3, 8, embed_type="timeF")
    with pytest.raises(ValueError, match="`x` last dimension must equal `c_in`=3, got 4"):
        layer(randn(2, 10, 4))
    with pytest.raises(ValueError, match="`x_mark` time length must equal that of `x` \\(10\\), got 9"):
        layer(randn(2, 10, 3), timef(2, 9))
    with pytest.raises(ValueError, match="`x_mark` last dimension must equal"):
        layer(randn(2, 10, 3), timef(2, 10, 5))


def test_data_embedding_config_keeps_token_arguments():
    layer = DataEmbedding(3, 8, padding="circular", use_bias=False, kernel_size=5, name="enc")
    config = layer.get_config()
    assert (config["padding"], config["use_bias"], config["kernel_size"], config["name"]) == ("circular", False, 5, "enc")
    clone = DataEmbedding.from_config(config)
    assert clone.value_embedding.padding == "circular" and not clone.value_embedding.use_bias


# -- DataEmbeddingInverted --------------------------------------------------


@pytest.mark.parametrize("with_marks", [True, False], ids=["marks", "nomarks"])
def test_inverted_embedding_matches_torch_reference(with_marks):
    ref = reference_torch.DataEmbeddingInverted(24, 16, dropout=0.0)
    layer = DataEmbeddingInverted(24, 16, dropout=0.0)
    x, x_mark = randn(3, 24, 5), (timef(3, 24) if with_marks else None)
    layer(x, x_mark)
    layer.value_embedding.kernel.assign(t2n(ref.value_embedding.weight).T)
    layer.value_embedding.bias.assign(t2n(ref.value_embedding.bias))
    out = numpy(layer(x, x_mark))
    assert out.shape == (3, 9 if with_marks else 5, 16)
    np.testing.assert_allclose(out, torch_out(ref, x, x_mark).numpy(), atol=1e-5)


def test_inverted_embedding_initialises_like_torch_linear():
    layer = DataEmbeddingInverted(100, 400)
    layer(randn(1, 100, 2))
    bound = 100**-0.5
    for w in (layer.value_embedding.kernel, layer.value_embedding.bias):
        values = numpy(w)
        assert values.max() <= bound and values.min() >= -bound and values.max() > 0.9 * bound


def test_inverted_embedding_time_other_than_seq_len_names_both():
    layer = DataEmbeddingInverted(24, 8)
    with pytest.raises(ValueError, match="`x` time length must equal `seq_len`=24, got 20"):
        layer(randn(2, 20, 3))
    with pytest.raises(ValueError, match="`x_mark` time length must equal `seq_len`=24, got 20"):
        layer(randn(2, 24, 3), timef(2, 20))
    with pytest.raises(ValueError, match="`seq_len`=24, got 20"):
        layer(keras.Input((20, 3)))


# -- PatchEmbedding ---------------------------------------------------------


@pytest.mark.parametrize("time,patch_len,stride", [(32, 16, 8), (30, 16, 8), (16, 16, 8), (21, 4, 3), (10, 5, 5), (9, 1, 1), (20, 3, 5)])
def test_patch_embedding_matches_torch_reference_and_patch_count(time, patch_len, stride):
    ref = reference_torch.PatchEmbedding(12, patch_len, stride, padding=stride, dropout=0.0)
    layer = PatchEmbedding(12, patch_len=patch_len, stride=stride, dropout=0.0)
    x = randn(2, time, 3)
    layer(x)
    layer.value_embedding.kernel.assign(t2n(ref.value_embedding.weight).T)
    expected, n_vars = torch_out(ref, x.transpose(0, 2, 1).copy())
    out = numpy(layer(x))
    count = (time + stride - patch_len) // stride + 1
    assert out.shape == (2, 3, count, 12) == layer.compute_output_shape((2, time, 3))
    assert layer.num_patches(time) == count == expected.shape[1] and n_vars == 3
    np.testing.assert_allclose(out.reshape(6, count, 12), expected.numpy(), atol=1e-5)


def test_patch_embedding_windows_follow_the_formula():
    d, patch_len, stride = 4, 3, 2
    layer = PatchEmbedding(d, patch_len=patch_len, stride=stride, dropout=0.0)
    x = randn(1, 7, 2)
    out = numpy(layer(x))
    kernel = numpy(layer.value_embedding.kernel)
    pe = numpy(layer.position_embedding(np.zeros((1, 4, 1))))[0]
    padded = np.concatenate([x, np.repeat(x[:, -1:], stride, axis=1)], axis=1)
    for v in range(2):
        for p in range(4):
            window = padded[0, p * stride : p * stride + patch_len, v]
            np.testing.assert_allclose(out[0, v, p], window @ kernel + pe[p], atol=1e-5)


@pytest.mark.parametrize("padding", ["end", None])
def test_patch_embedding_with_free_time_axis_matches_eager(padding):
    layer = PatchEmbedding(6, patch_len=4, stride=3, padding=padding, dropout=0.0)
    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, layer(inputs))
    x = randn(2, 13, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), numpy(layer(x)), atol=1e-5)


def test_patch_embedding_without_padding_drops_the_incomplete_tail():
    layer = PatchEmbedding(8, patch_len=4, stride=3, padding=None, dropout=0.0)
    assert layer.padding == "none" and layer.get_config()["padding"] == "none"
    x = randn(2, 14, 3)
    out = numpy(layer(x))
    assert out.shape == (2, 3, 4, 8) and layer.num_patches(14) == 4
    changed = x.copy()
    changed[:, 13:] += 100.0  # windows start at 0, 3, 6, 9: step 13 lies in none
    np.testing.assert_allclose(numpy(layer(changed)), out, atol=1e-5)


def test_patch_embedding_handles_unknown_time_in_functional_model():
    layer = PatchEmbedding(8, patch_len=4, stride=2, dropout=0.0)
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, layer(inputs))
    assert tuple(model.outputs[0].shape) == (None, 3, None, 8)
    x = randn(2, 12, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), numpy(layer(x)), atol=1e-5)


def test_patch_embedding_errors():
    with pytest.raises(ValueError, match="`inputs` time length must be >= `patch_len`=16, got 10"):
        PatchEmbedding(8)(randn(2, 10, 3))
    with pytest.raises(ValueError, match="`padding` must be one of 'end', 'none', got 'start'"):
        PatchEmbedding(8, padding="start")
    with pytest.raises(ValueError, match="`stride` must be a positive integer, got 0"):
        PatchEmbedding(8, stride=0)


# -- ReversibleInstanceNorm -------------------------------------------------


def random_affine(layer, seed=0):
    r = np.random.default_rng(seed)
    layer.affine_weight.assign(r.uniform(0.5, 2.0, layer.num_features).astype("float32"))
    layer.affine_bias.assign(r.standard_normal(layer.num_features).astype("float32"))


def test_revin_matches_torch_reference_norm_and_denorm():
    ref = reference_torch.RevIN(4)
    layer = ReversibleInstanceNorm(4)
    x, y = randn(3, 24, 4, scale=3.0, shift=5.0), randn(3, 6, 4)
    layer(x)
    random_affine(layer)
    with torch.no_grad():
        ref.affine_weight.copy_(torch.from_numpy(numpy(layer.affine_weight)))
        ref.affine_bias.copy_(torch.from_numpy(numpy(layer.affine_bias)))
        expected_norm = ref(torch.from_numpy(x), "norm").numpy()
        expected_denorm = ref(torch.from_numpy(y), "denorm").numpy()
    x_norm, stats = layer(x, return_stats=True)
    np.testing.assert_allclose(numpy(x_norm), expected_norm, atol=1e-5)
    np.testing.assert_allclose(numpy(stats[:, 0]), t2n(ref.mean)[:, 0], atol=1e-5)
    np.testing.assert_allclose(numpy(stats[:, 1]), t2n(ref.stdev)[:, 0], atol=1e-5)
    np.testing.assert_allclose(numpy(layer(y, mode="denorm", stats=stats)), expected_denorm, atol=1e-5)


@pytest.mark.parametrize("affine", [True, False])
def test_revin_round_trip_restores_input_including_constant_series(affine):
    layer = ReversibleInstanceNorm(4, affine=affine)
    x = randn(3, 24, 4, scale=3.0, shift=5.0)
    x[0, :, 1] = 7.25  # constant: stdev = sqrt(eps)
    x[1, :, 2] = 0.0
    x[2] = -3.5
    layer(x)
    if affine:
        random_affine(layer)
    x_norm, stats = layer(x, return_stats=True)
    assert np.all(np.isfinite(numpy(x_norm))) and np.all(np.isfinite(numpy(stats)))
    back = numpy(layer(x_norm, mode="denorm", stats=stats))
    np.testing.assert_allclose(back, x, atol=1e-5)
    np.testing.assert_allclose(back[0, :, 1], 7.25, atol=1e-5)


def test_revin_normalised_series_has_zero_mean_unit_std():
    layer = ReversibleInstanceNorm(3)
    out = numpy(layer(randn(2, 50, 3, scale=4.0, shift=-2.0)))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-3)


def test_revin_denormalises_a_horizon_and_a_single_feature():
    layer = ReversibleInstanceNorm(4)
    x, y = randn(2, 24, 4, scale=2.0, shift=3.0), randn(2, 6, 4)
    layer(x)
    random_affine(layer)
    _, stats = layer(x, return_stats=True)
    full = numpy(layer(y, mode="denorm", stats=stats))
    assert full.shape == (2, 6, 4)
    for i in range(4):
        one = numpy(layer(y[:, :, i : i + 1], mode="denorm", stats=stats, feature_index=i))
        np.testing.assert_allclose(one, full[:, :, i : i + 1], atol=1e-5)


def test_revin_norm_with_given_stats_normalises_targets_like_inputs():
    layer = ReversibleInstanceNorm(2)
    x, target = randn(2, 16, 2, shift=4.0), randn(2, 5, 2, shift=4.0)
    _, stats = layer(x, return_stats=True)
    target_norm = layer(target, stats=stats)
    np.testing.assert_allclose(numpy(layer(target_norm, mode="denorm", stats=stats)), target, atol=1e-5)


def test_revin_legacy_eager_form_uses_the_last_norm_statistics():
    layer = ReversibleInstanceNorm(num_features=7)
    x = randn(2, 24, 7, scale=2.0, shift=1.0)
    x_norm = layer(x, mode="norm")
    np.testing.assert_allclose(numpy(layer(x_norm, mode="denorm")), x, atol=1e-5)
    _, stats = layer(x, return_stats=True)
    np.testing.assert_allclose(numpy(layer._last_stats), numpy(stats), atol=1e-6)


def test_revin_denorm_without_stats_before_any_norm_asks_for_stats():
    with pytest.raises(ValueError, match="`stats` must be passed"):
        ReversibleInstanceNorm(3)(randn(2, 5, 3), mode="denorm")


def test_revin_symbolic_denorm_without_stats_asks_for_stats():
    layer = ReversibleInstanceNorm(3)
    layer(randn(2, 8, 3))  # eager statistics exist, but symbolic code must not use them
    inputs = keras.Input((8, 3))
    with pytest.raises(ValueError, match="`stats` must be passed"):
        layer(layer(inputs), mode="denorm")


class LegacyRevinModel(keras.Model):
    """The original page's form inside a model: norm, then denorm without stats."""

    def __init__(self):
        super().__init__()
        self.revin = ReversibleInstanceNorm(3)
        self.dense = keras.layers.Dense(3)

    def call(self, x):
        return self.revin(self.dense(self.revin(x, mode="norm")), mode="denorm")


def test_revin_stores_only_concrete_statistics_and_traced_denorm_needs_stats():
    model = LegacyRevinModel()
    x = randn(4, 8, 3)
    model(x)  # eager: works, stores concrete statistics
    assert validation.is_concrete(model.revin._last_stats)
    compiled = keras.backend.backend() != "torch"  # torch's predict runs eagerly
    if compiled:
        with pytest.raises(ValueError, match="`stats` must be passed"):
            model.predict(x, verbose=0)
    else:
        model.predict(x, verbose=0)
    stored = model.revin._last_stats
    assert validation.is_concrete(stored)
    assert np.all(np.isfinite(numpy(stored)))


def test_revin_traced_norm_stores_nothing():
    layer = ReversibleInstanceNorm(3)
    inputs = keras.Input((8, 3))
    model = keras.Model(inputs, layer(inputs))
    model.predict(randn(2, 8, 3), verbose=0)
    if keras.backend.backend() != "torch":
        assert layer._last_stats is None
    else:
        assert validation.is_concrete(layer._last_stats)


def test_revin_in_functional_model_round_trips_and_saves(tmp_path):
    layer = ReversibleInstanceNorm(3)
    inputs = keras.Input((12, 3))
    x_norm, stats = layer(inputs, return_stats=True)
    assert tuple(stats.shape) == (None, 2, 3)
    model = keras.Model(inputs, layer(x_norm[:, -4:], mode="denorm", stats=stats))
    x = randn(2, 12, 3, scale=3.0, shift=2.0)
    np.testing.assert_allclose(model.predict(x, verbose=0), x[:, -4:], atol=1e-5)
    model.save(tmp_path / "revin.keras")
    loaded = keras.saving.load_model(tmp_path / "revin.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


class RevinForecaster(keras.Model):
    def __init__(self, horizon=4, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.revin = ReversibleInstanceNorm(3)
        self.head = keras.layers.Dense(horizon)

    def call(self, x):
        x_norm, stats = self.revin(x, return_stats=True)
        y = ops.transpose(self.head(ops.transpose(x_norm, (0, 2, 1))), (0, 2, 1))
        return self.revin(y, mode="denorm", stats=stats)


def test_revin_in_subclassed_model_trains_and_matches_eager():
    keras.utils.set_random_seed(0)
    model = RevinForecaster()
    x, target = randn(8, 12, 3, shift=10.0), randn(8, 4, 3, shift=10.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, target, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert not np.allclose(numpy(model.revin.affine_weight), 1.0)  # the affine weights learn
    np.testing.assert_allclose(model.predict(x, verbose=0), numpy(model(x)), atol=1e-5)


def test_revin_statistics_stay_float32_under_mixed_precision():
    layer = ReversibleInstanceNorm(3, dtype="mixed_bfloat16")
    x = randn(2, 16, 3, scale=0.01, shift=1000.0)
    x_norm, stats = layer(x, return_stats=True)
    assert keras.backend.standardize_dtype(stats.dtype) == "float32"
    assert keras.backend.standardize_dtype(x_norm.dtype) == "bfloat16"
    np.testing.assert_allclose(numpy(stats[:, 0]), x.mean(axis=1), rtol=1e-6)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda l, x, s: l(x, mode="forward"), "`mode` must be one of 'norm', 'denorm'"),
        (lambda l, x, s: l(x, mode="denorm", stats=s, return_stats=True), "`return_stats` must be False"),
        (lambda l, x, s: l(x[:, :, :1], mode="denorm", stats=s, feature_index=3), "`feature_index` must be an integer in \\[0, 3\\), got 3"),
        (lambda l, x, s: l(x, feature_index=0), "`feature_index` must be None with mode='norm'"),
        (lambda l, x, s: l(x, mode="denorm", stats=s[:, :1]), "`stats` must have shape"),
        (lambda l, x, s: l(x[:, :, :2]), "`inputs` last dimension must equal `num_features`=3, got 2"),
        (lambda l, x, s: l(x, mode="denorm", stats=s, feature_index=1), "`inputs` last dimension must be 1 with `feature_index`=1, got 3"),
    ],
)
def test_revin_rejects_bad_calls(call, message):
    layer = ReversibleInstanceNorm(3)
    x = randn(2, 8, 3)
    _, stats = layer(x, return_stats=True)
    with pytest.raises(ValueError, match=message):
        call(layer, x, stats)


def test_revin_rejects_bad_arguments_at_construction():
    with pytest.raises(ValueError, match="`num_features` must be a positive integer, got 0"):
        ReversibleInstanceNorm(0)
    with pytest.raises(ValueError, match="`eps` must be a (finite )?positive float, got -1"):
        ReversibleInstanceNorm(3, eps=-1)


# -- End to end ---------------------------------------------------------------


def build_forecaster(seq_len=16, pred_len=4, variates=3, d_model=8):
    x_in = keras.Input((seq_len, variates), name="x")
    mark_in = keras.Input((seq_len, 4), dtype="int32", name="x_mark")
    revin = ReversibleInstanceNorm(variates)
    x_norm, stats = revin(x_in, return_stats=True)
    h = DataEmbedding(variates, d_model, padding="circular", use_bias=False, dropout=0.0)(x_norm, mark_in)
    attn = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = keras.layers.LayerNormalization()(h + attn)
    h = keras.layers.Dense(variates)(h)  # (batch, seq_len, variates)
    h = keras.layers.Permute((2, 1))(h)
    h = keras.layers.Permute((2, 1))(keras.layers.Dense(pred_len)(h))  # (batch, pred_len, variates)
    out = revin(h, mode="denorm", stats=stats)
    return keras.Model([x_in, mark_in], out)


def test_revin_data_embedding_encoder_model_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    t = np.arange(24 + 4)[None, :, None] + np.arange(8)[:, None, None]
    series = (50 + 10 * np.sin(2 * np.pi * t / 6) + np.arange(3)).astype("float32")
    x, y = series[:, :16], series[:, 16:20]
    x_mark = marks(8, 16)
    model = build_forecaster()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit([x, x_mark], y, epochs=3, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    prediction = model.predict([x, x_mark], verbose=0)
    assert prediction.shape == (8, 4, 3) and np.all(np.isfinite(prediction))
    model.save(tmp_path / "forecaster.keras")
    loaded = keras.saving.load_model(tmp_path / "forecaster.keras")
    np.testing.assert_array_equal(loaded.predict([x, x_mark], verbose=0), prediction)
