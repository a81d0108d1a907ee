"""The forecasters in kerasfactory.models: shapes, saving, training, argument checks."""

import inspect

import keras
import numpy as np
import pytest

from kerasfactory.models import MODELS, build_model

SEQ, PRED, N_VARS, MARKS = 24, 8, 3, 4
SMALL = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16}
PATCH = {"patch_len": 8, "stride": 4}
LINEAR = ("linear", "rlinear", "dlinear")  # no hyperparameters to size, no dropout
TIMEMIXER = {"d_model": 16, "n_layers": 1, "d_ff": 16, "down_sampling_layers": 2, "moving_avg": 5}  # SEQ / 2**2


_BUILT = {}


def built(name, target_index=None):
    """A shared model per configuration, for the tests that only call it (building is the slow part)."""
    key = (name, target_index)
    if key not in _BUILT:
        _BUILT[key] = make(name, target_index)
    return _BUILT[key]


def predict(model, x, marks):
    return keras.ops.convert_to_numpy(model([x, marks], training=False))


def make(name, target_index=None, seed=0, **hparams):
    # The linear models have no layers to size and no dropout: they take none of these.
    small = {} if name in LINEAR else {**SMALL, **(PATCH if name == "patchtst" else {})}
    small = TIMEMIXER if name == "timemixer" else small  # no attention heads; scales that divide SEQ
    return build_model(
        name, seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, freq="h",
        target_index=target_index, seed=seed, **{**small, **hparams},
    )


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, SEQ, N_VARS)).astype("float32") * 3 + 10
    marks = rng.uniform(-0.5, 0.5, size=(n, SEQ, MARKS)).astype("float32")
    return x, marks


@pytest.mark.parametrize("name", sorted(MODELS))
def test_multivariate_output_has_every_variate(name):
    x, marks = batch()
    assert predict(built(name), x, marks).shape == (4, PRED, N_VARS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_target_only_output_is_the_target_column_of_the_multivariate_one(name):
    # Same seed, same weights: "MS" keeps the target's row of "M" and denormalises it alone.
    x, marks = batch()
    full = predict(built(name), x, marks)
    target = predict(built(name, target_index=1), x, marks)
    assert target.shape == (4, PRED, 1)
    np.testing.assert_allclose(target[..., 0], full[..., 1], atol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_and_load_keras_file_gives_identical_predictions(name, tmp_path):
    model = built(name, target_index=1)
    x, marks = batch()
    before = predict(model, x, marks)
    model.save(tmp_path / "model.keras")
    after = predict(keras.saving.load_model(tmp_path / "model.keras"), x, marks)
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.filterwarnings("ignore:Layer .* does not have a `quantize` method")  # Keras, per weightless leaf
def test_int8_quantize_right_after_construction_predicts_close_to_the_float_model(name):
    # Before any call: every layer, weightless sub-layers included, is built at construction.
    quantized = make(name)
    quantized.quantize("int8")
    x, marks = batch()
    expected = predict(built(name), x, marks)  # same seed, same float weights
    np.testing.assert_allclose(predict(quantized, x, marks), expected, atol=0.1 * np.std(expected))  # 2-5 % seen


# linear, dlinear: no RevIN (CycleLinear's is optional; DLinear follows a shift only while its kernels sum to 1,
# as at initialisation), see test_linear_model.py and test_linear_family.py
@pytest.mark.parametrize("name", sorted(set(MODELS) - {"linear", "dlinear"}))
def test_output_follows_a_level_shift_of_the_input(name):
    # RevIN: the forecast is made in normalised units and denormalised with the input's statistics.
    model = built(name)
    x, marks = batch()
    shifted = predict(model, x + 100.0, marks)
    base = predict(model, x, marks)
    np.testing.assert_allclose(shifted, base + 100.0, atol=1e-3)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_few_fit_steps_lower_the_loss(name):
    t = np.arange(256 + SEQ + PRED, dtype="float32")
    series = np.stack([np.sin(2 * np.pi * t / 12 + k) * (k + 1) for k in range(N_VARS)], 1)
    starts = np.arange(0, 256, 4)
    x = series[starts[:, None] + np.arange(SEQ)]
    y = series[starts[:, None] + SEQ + np.arange(PRED)]
    marks = np.zeros((len(starts), SEQ, MARKS), "float32")
    model = make(name) if name in LINEAR else make(name, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = np.mean((predict(model, x, marks) - y) ** 2)
    model.fit([x, marks], y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    after = np.mean((predict(model, x, marks) - y) ** 2)
    assert after < 0.5 * before


def test_same_seed_gives_the_same_initial_weights():
    a, b = make("transformer", seed=3), make("transformer", seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_unknown_model_name_is_rejected_listing_the_names():
    with pytest.raises(ValueError, match="`name` must be one of 'transformer', 'itransformer', 'patchtst', 'linear'"):
        build_model("lstm", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS)


def test_unknown_hyperparameter_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'n_head'"):
        make("itransformer", n_head=4)


def test_unknown_hyperparameter_message_lists_the_builders_keywords():
    with pytest.raises(
        TypeError,
        match="`hparams` of 'itransformer' must be among activation, d_ff, d_model, dropout, n_heads, "
        "n_layers, residual, revin_affine, got 'n_head'",
    ):
        make("itransformer", n_head=4)
    with pytest.raises(TypeError, match="`hparams` of 'linear' must be among period, revin, got 'd_model'"):
        make("linear", d_model=8)


EXPECTED_HPARAMS = {
    "transformer": dict(d_model=64, n_heads=4, n_layers=2, d_ff=128, dropout=0.1, activation="gelu", residual=True),
    "itransformer": dict(d_model=128, n_heads=4, n_layers=2, d_ff=128, dropout=0.1, activation="gelu", residual=False,
                         revin_affine=True),
    "patchtst": dict(d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.1, activation="gelu", patch_len=16,
                     stride=8, head_dropout=0.0, head_dropout_position="before", final_norm="layer", revin_affine=True),
    "linear": dict(period=None, revin=False),
    "rlinear": dict(revin_affine=True),
    "dlinear": dict(moving_avg=25, individual=False),
    "timemixer": dict(d_model=16, d_ff=32, n_layers=2, dropout=0.1, down_sampling_layers=3, down_sampling_window=2,
                      down_sampling_method="avg", decomp_method="moving_avg", moving_avg=25, top_k=5,
                      channel_independence=True, use_norm=True, mark_order="per_sample"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_builder_lists_its_hyperparameters_as_keywords_with_their_defaults(name):
    parameters = inspect.signature(MODELS[name]).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())  # no **hparams
    common = ["seq_len", "pred_len", "n_vars", "mark_dim", "freq", "target_index", "seed",
              "future_marks", "future_dim", "future_mask"]
    assert list(parameters)[: len(common)] == common
    assert {k: p.default for k, p in list(parameters.items())[len(common):]} == EXPECTED_HPARAMS[name]
    module = inspect.getmodule(MODELS[name])
    assert module.DEFAULTS == EXPECTED_HPARAMS[name]  # derived from the signature, for scripts that read it


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_heads": 0}, "`n_heads` must be a positive integer, got 0"),
        ({"activation": "no_such_activation"}, "`activation` must be a Keras activation"),
        ({"residual": "yes"}, "`residual` must be True or False, got 'yes'"),
    ],
)
def test_bad_hyperparameter_values_name_the_hyperparameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make("itransformer", **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"target_index": 3}, r"`target_index` must be None or an integer in \[0, 3\), got 3"),
        ({"seq_len": 0}, "`seq_len` must be a positive integer, got 0"),
        ({"d_model": 2.5}, "`d_model` must be a positive integer, got 2.5"),
        ({"dropout": 1.0}, r"`dropout` must be a float in \[0, 1\), got 1.0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    args = {"seq_len": SEQ, "pred_len": PRED, "n_vars": N_VARS, "mark_dim": MARKS, **SMALL}
    with pytest.raises(ValueError, match=message):
        build_model("transformer", **{**args, **kwargs})


def test_transformer_needs_at_least_the_timef_width_of_its_frequency():
    with pytest.raises(ValueError, match=r"`mark_dim` must be >= 4 \(the timeF width of freq='h'\), got 3"):
        build_model("transformer", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=3, freq="h")


def test_transformer_reads_mark_columns_appended_after_the_timef_ones():
    # Holidays or events after the standard columns: the embedding takes them as extra_columns.
    model = build_model(
        "transformer", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS + 2, freq="h", seed=0,
        **SMALL, dropout=0.0,
    )
    assert model.get_layer("embedding").get_config()["extra_columns"] == 2
    x, marks = batch()
    marks = np.concatenate([marks, np.zeros(marks.shape[:2] + (2,), "float32")], -1)
    base = predict(model, x, marks)
    marks[..., -1] = 1.0
    assert np.abs(predict(model, x, marks) - base).max() > 1e-4
