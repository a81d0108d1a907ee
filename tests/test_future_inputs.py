"""Future inputs of every forecaster: the forecast steps' marks `y_mark`, known covariates `x_future`
and their `future_mask`.

Each model is built small for every combination of future inputs, with random weights (so that
every weight matters, the CycleLinear table and future term included) and no dropout.
"""

import pathlib

import keras
import numpy as np
import pytest

from kerasfactory.models import MODELS, build_model, build_transformer
from tests.saved.make_files import FORECASTERS
from tests.test_cross_backend import randomized

SEQ, PRED, N_VARS, MARKS, K = 16, 4, 2, 4, 2
SMALL = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8, "dropout": 0.0}
PATCH = {"patch_len": 8, "stride": 4}
TIMEMIXER = {"d_model": 8, "n_layers": 1, "d_ff": 8, "dropout": 0.0, "down_sampling_layers": 2, "moving_avg": 3}
# name -> (future_marks, future_dim, future_mask)
COMBOS = {
    "marks": (True, 0, False),
    "covariates": (False, K, False),
    "masked": (False, K, True),
    "marks+masked": (True, K, True),
}
NAMES = sorted(MODELS)
CASES = [(name, combo) for name in NAMES for combo in COMBOS]
COVARIATE_CASES = [case for case in CASES if COMBOS[case[1]][1]]
MASKED_CASES = [case for case in CASES if COMBOS[case[1]][2]]


def ids(cases):
    return [f"{name}-{combo}" for name, combo in cases]


def make(name, combo, target_index=None):
    future_marks, future_dim, future_mask = COMBOS[combo]
    hparams = {} if name in ("linear", "rlinear", "dlinear") else {**SMALL, **(PATCH if name == "patchtst" else {})}
    hparams = TIMEMIXER if name == "timemixer" else hparams  # no attention heads; scales that divide SEQ
    model = build_model(
        name, seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, freq="h", target_index=target_index,
        seed=0, future_marks=future_marks, future_dim=future_dim, future_mask=future_mask, **hparams,
    )
    model.set_weights(randomized(model.get_weights()))
    return model


_BUILT = {}


def built(name, combo, target_index=None):
    """A shared model per configuration, for the tests that only call it (building is the slow part)."""
    key = (name, combo, target_index)
    if key not in _BUILT:
        _BUILT[key] = make(name, combo, target_index)
    return _BUILT[key]


def data(model, n=3, seed=0):
    """`{input name: array}` for `model`: values, timeF-like marks, covariates, a mask with both 0 and 1."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for tensor in model.inputs:
        shape = (n, *tensor.shape[1:])
        if tensor.name == "x":
            arrays["x"] = rng.normal(size=shape) * 3 + 10
        elif tensor.name in ("x_mark", "y_mark"):
            arrays[tensor.name] = rng.uniform(-0.5, 0.5, size=shape)
        elif tensor.name == "x_future":
            arrays["x_future"] = rng.normal(size=shape)
        else:
            mask = (rng.uniform(size=shape) < 0.5).astype("float32")
            mask[:, 0], mask[:, -1] = 1.0, 0.0  # some known and some unknown values in every window
            arrays["future_mask"] = mask
    return {k: v.astype("float32") for k, v in arrays.items()}


def predict(model, arrays):
    return keras.ops.convert_to_numpy(model([arrays[t.name] for t in model.inputs], training=False))


@pytest.mark.parametrize("name, combo", CASES, ids=ids(CASES))
def test_inputs_come_in_the_documented_order_and_the_output_has_the_forecast_shape(name, combo):
    model = built(name, combo)
    future_marks, future_dim, future_mask = COMBOS[combo]
    expected = [("x", (SEQ, N_VARS)), ("x_mark", (SEQ, MARKS))]
    expected += [("y_mark", (PRED, MARKS))] if future_marks else []
    expected += [("x_future", (PRED, future_dim))] if future_dim else []
    expected += [("future_mask", (PRED, future_dim))] if future_mask else []
    assert [(t.name, tuple(t.shape[1:])) for t in model.inputs] == expected
    assert tuple(model.output.shape) == (None, PRED, N_VARS)  # any batch size
    out = predict(model, data(model))
    assert out.shape == (3, PRED, N_VARS)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", NAMES)
def test_changing_the_forecast_steps_marks_changes_the_output(name):
    model = built(name, "marks")
    arrays = data(model)
    base = predict(model, arrays)
    arrays["y_mark"][..., 0] = np.round((arrays["y_mark"][..., 0] + 0.5) * 23 + 5) % 24 / 23 - 0.5  # 5 hours on
    assert np.abs(predict(model, arrays) - base).max() > 1e-3


@pytest.mark.parametrize("name, combo", COVARIATE_CASES, ids=ids(COVARIATE_CASES))
def test_changing_a_known_future_covariate_changes_the_output(name, combo):
    model = built(name, combo)
    arrays = data(model)
    base = predict(model, arrays)
    arrays["x_future"][:, 0, 0] += 2.0  # step 0 is known in every window (see `data`)
    assert np.abs(predict(model, arrays) - base).max() > 1e-3


@pytest.mark.parametrize("name, combo", MASKED_CASES, ids=ids(MASKED_CASES))
def test_unknown_future_values_do_not_change_the_output_even_when_nan(name, combo):
    model = built(name, combo)
    arrays = data(model)
    base = predict(model, arrays)
    unknown = arrays["future_mask"] == 0
    for filler in (1e6, np.nan, np.inf):
        arrays["x_future"] = np.where(unknown, np.float32(filler), arrays["x_future"]).astype("float32")
        got = predict(model, arrays)
        assert np.all(np.isfinite(got)), filler
        np.testing.assert_allclose(got, base, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, combo", MASKED_CASES, ids=ids(MASKED_CASES))
def test_an_unknown_value_is_told_apart_from_a_known_zero(name, combo):
    # The mask is an input feature too: zero with mask 0 and zero with mask 1 are different inputs.
    model = built(name, combo)
    arrays = data(model)
    arrays["x_future"][:, -1] = 0.0
    arrays["future_mask"][:, -1] = 0.0
    unknown = predict(model, arrays)
    arrays["future_mask"][:, -1] = 1.0
    assert np.abs(predict(model, arrays) - unknown).max() > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_target_only_output_is_the_target_column_with_future_inputs_too(name):
    # Same seed, same (randomized) weights: "MS" keeps the target's row of "M".
    full, target = built(name, "marks+masked"), built(name, "marks+masked", target_index=1)
    arrays = data(full)
    np.testing.assert_allclose(predict(target, arrays)[..., 0], predict(full, arrays)[..., 1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(FORECASTERS))  # the models of 0.2.0
def test_model_without_future_inputs_has_the_layers_and_weights_of_the_previous_release(name):
    # Built as tests/saved/make_files.py built it for 0.2.0: same layer names, same weight shapes.
    path = pathlib.Path(__file__).parent / "saved" / "v0.2.0" / f"{keras.backend.backend()}_{name}.keras"
    saved = keras.saving.load_model(path)
    keras.backend.clear_session()  # Keras numbers unnamed layers per session: start from "permute" as 0.2.0 did
    model = build_model(name, seq_len=12, pred_len=4, n_vars=3, mark_dim=4, freq="h", seed=0, **FORECASTERS[name])
    assert [layer.name for layer in model.layers] == [layer.name for layer in saved.layers]
    assert [w.shape for w in model.weights] == [w.shape for w in saved.weights]
    assert [t.name for t in model.inputs] == ["x", "x_mark"]


def test_itransformer_adds_one_token_per_future_column():
    model = built("itransformer", "marks+masked")
    # variates + past mark columns + y_mark columns + covariate and mask columns
    assert model.get_layer("tokens").output.shape[1:] == (N_VARS + MARKS + MARKS + 2 * K, SMALL["d_model"])
    assert model.get_layer("variate_tokens").output.shape[1:] == (N_VARS, PRED)


def test_transformer_future_path_adds_to_the_past_only_forecast():
    # With the future projection zeroed the model is the past-only one: same weights, same output.
    model = make("transformer", "marks+masked")
    past_only = build_transformer(seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, seed=0, **SMALL)
    for layer in past_only.layers:
        for mine, theirs in zip(model.get_layer(layer.name).weights, layer.weights):
            theirs.assign(mine)
    projection = model.get_layer("future_projection")
    for w in projection.weights:
        w.assign(np.zeros(w.shape, "float32"))
    arrays = data(model)
    np.testing.assert_allclose(predict(model, arrays), predict(past_only, arrays), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_keras_file_with_future_inputs_gives_identical_predictions(name, tmp_path):
    model = built(name, "marks+masked")
    arrays = data(model)
    before = predict(model, arrays)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert [t.name for t in loaded.inputs] == ["x", "x_mark", "y_mark", "x_future", "future_mask"]
    np.testing.assert_array_equal(predict(loaded, arrays), before)


@pytest.mark.parametrize("name", NAMES)
def test_one_epoch_of_fit_with_future_inputs_and_nan_at_unknown_steps_gives_finite_loss(name):
    model = make(name, "marks+masked")
    arrays = data(model, n=16, seed=1)
    arrays["x_future"] = np.where(arrays["future_mask"] == 0, np.float32(np.nan), arrays["x_future"])
    y = np.random.default_rng(2).normal(size=(16, PRED, N_VARS)).astype("float32") + 10
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    history = model.fit([arrays[t.name] for t in model.inputs], y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(np.all(np.isfinite(keras.ops.convert_to_numpy(w))) for w in model.weights)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"future_mask": True}, r"`future_mask` needs future covariates to mask: `future_dim` must be > 0 "
                                r"with future_mask=True, got future_dim=0"),
        ({"future_dim": -1}, "`future_dim` must be a non-negative integer, got -1"),
        ({"future_dim": 1.5}, "`future_dim` must be a non-negative integer, got 1.5"),
        ({"future_dim": True}, "`future_dim` must be a non-negative integer, got True"),
        ({"future_marks": "yes"}, "`future_marks` must be True or False, got 'yes'"),
        ({"future_mask": 1, "future_dim": 2}, "`future_mask` must be True or False, got 1"),
    ],
)
def test_bad_future_arguments_name_the_argument(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model(name, seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, **kwargs)
