"""RLinear, DLinear and CycleLinear with RevIN: their formulas on set weights, and their closed-form fits.

Also `SeriesDecomposition` (DLinear's moving average), which the layer harness cannot take (two outputs).
"""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from kerasfactory.layers import SeriesDecomposition
from kerasfactory.models import build_model, fit_least_squares, has_closed_form
from kerasfactory.time_features import time_features

SEQ, PRED, N_VARS, MARKS = 48, 12, 3, 4
EPS = 1e-5  # RevIN's


def make(name, **kwargs):
    return build_model(name, seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, freq="h", seed=0, **kwargs)


def predict(model, arrays):
    return keras.ops.convert_to_numpy(model(list(arrays)))


def decompose(x, k):
    """numpy reference: `(seasonal, trend)` of `x` `(batch, time, channels)`, edges repeated `(k - 1) / 2` times."""
    half = (k - 1) // 2
    padded = np.concatenate([np.repeat(x[:, :1], half, 1), x, np.repeat(x[:, -1:], half, 1)], 1)
    trend = np.stack([padded[:, t : t + k].mean(1) for t in range(x.shape[1])], 1)
    return x - trend, trend


def instance_norm(x):
    mean = x.mean(1, keepdims=True)
    std = np.sqrt(x.var(1, keepdims=True) + EPS)
    return (x - mean) / std, mean, std


def random_windows(n=4, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, SEQ, N_VARS)) * 3 + 10).astype("float32")
    return rng, x, rng.uniform(-0.5, 0.5, size=(n, SEQ, MARKS)).astype("float32")


def test_rlinear_is_revin_then_a_shared_linear_map_then_revins_inverse():
    rng, x, marks = random_windows()
    model = make("rlinear")
    kernel, bias = rng.normal(size=(SEQ, PRED)) / SEQ, rng.normal(size=PRED)
    scale, shift = rng.uniform(0.5, 2.0, N_VARS), rng.normal(size=N_VARS)
    for weight, value in zip(model.get_layer("linear").weights + model.get_layer("revin").weights,
                             (kernel, bias, scale, shift)):
        weight.assign(value.astype("float32"))
    x_norm, mean, std = instance_norm(x.astype("float64"))
    y_norm = np.einsum("nlc,lh->nhc", x_norm * scale + shift, kernel) + bias[:, None]
    expected = (y_norm - shift) / (scale + EPS**2) * std + mean
    np.testing.assert_allclose(predict(model, (x, marks)), expected, atol=1e-4)


def test_rlinear_without_affine_has_no_revin_weights():
    model = make("rlinear", revin_affine=False)
    assert model.get_layer("revin").weights == [] and len(model.weights) == 2


@pytest.mark.parametrize("individual", [False, True], ids=["shared", "individual"])
def test_dlinear_is_the_sum_of_linear_maps_of_the_seasonal_and_trend_parts(individual):
    rng, x, marks = random_windows()
    model = make("dlinear", moving_avg=5, individual=individual)
    maps = [1, N_VARS][individual]
    weights = {}
    for name in ("linear_seasonal", "linear_trend"):
        kernel = rng.normal(size=(maps, SEQ, PRED)) / SEQ
        bias = rng.normal(size=(maps, PRED))
        layer = model.get_layer(name)
        layer.kernel.assign((kernel if individual else kernel[0]).astype("float32"))
        layer.bias.assign((bias if individual else bias[0]).astype("float32"))
        weights[name] = np.broadcast_to(kernel, (N_VARS, SEQ, PRED)), np.broadcast_to(bias, (N_VARS, PRED))
    seasonal, trend = decompose(x.astype("float64"), 5)
    expected = sum(
        np.einsum("nlc,clh->nhc", part, weights[name][0]) + weights[name][1].T
        for name, part in (("linear_seasonal", seasonal), ("linear_trend", trend))
    )
    np.testing.assert_allclose(predict(model, (x, marks)), expected, atol=1e-4)


def test_dlinear_with_a_map_per_variate_saves_and_loads_with_the_same_predictions(tmp_path):
    rng, x, marks = random_windows()
    model = make("dlinear", individual=True, moving_avg=5, target_index=1)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    assert model.get_layer("linear_trend").kernel.shape == (N_VARS, SEQ, PRED)
    model.save(tmp_path / "dlinear.keras")
    loaded = keras.saving.load_model(tmp_path / "dlinear.keras")
    np.testing.assert_array_equal(predict(loaded, (x, marks)), predict(model, (x, marks)))


def test_dlinear_starts_as_the_reference_does_kernels_one_over_seq_len_biases_zero():
    model = make("dlinear")
    for name in ("linear_seasonal", "linear_trend"):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer(name).weights)
        np.testing.assert_allclose(kernel, np.full((SEQ, PRED), 1.0 / SEQ), rtol=1e-6)
        np.testing.assert_array_equal(bias, np.zeros(PRED))
    assert model.get_layer("decomposition").kernel_size == 25


def test_dlinear_moving_average_must_be_odd_and_is_named():
    with pytest.raises(ValueError, match="`moving_avg` must be a positive odd integer, got 24"):
        make("dlinear", moving_avg=24)


def test_cyclelinear_with_revin_normalises_each_window_before_the_cycle_and_denormalises_after():
    rng = np.random.default_rng(1)
    model = make("linear", revin=True)
    table = rng.normal(size=(24, N_VARS))
    kernel, bias = rng.normal(size=(SEQ, PRED)) / SEQ, rng.normal(size=PRED)
    model.get_layer("cycle").table.assign(table.astype("float32"))
    model.get_layer("linear").kernel.assign(kernel.astype("float32"))
    model.get_layer("linear").bias.assign(bias.astype("float32"))
    dates = pd.date_range("2021-03-01 05:00", periods=SEQ, freq="h")
    x = (rng.normal(size=(1, SEQ, N_VARS)) * 4 + 20).astype("float32")
    x_norm, mean, std = instance_norm(x[0].astype("float64")[None])
    phases = (5 + np.arange(SEQ + PRED)) % 24
    y_norm = table[phases[SEQ:]] + bias[:, None] + kernel.T @ (x_norm[0] - table[phases[:SEQ]])
    got = predict(model, (x, time_features(dates, "h")[None]))
    np.testing.assert_allclose(got[0], y_norm * std[0] + mean[0], atol=1e-4)
    assert model.get_layer("revin").weights == []  # CycleNet's RevIN has no affine


def test_future_columns_add_a_linear_term_in_normalised_units_for_rlinear_and_data_units_for_dlinear():
    rng, x, marks = random_windows()
    y_mark = rng.uniform(-0.5, 0.5, size=(4, PRED, MARKS)).astype("float32")
    x_future = rng.normal(size=(4, PRED, 2)).astype("float32")
    u = np.concatenate([y_mark, x_future], -1).astype("float64")  # y_mark's columns, then x_future's
    for name in ("rlinear", "dlinear"):
        model = make(name, future_marks=True, future_dim=2)
        base = predict(model, (x, marks, y_mark, x_future))  # V starts at zero: the past-only forecast
        v = rng.normal(size=(MARKS + 2, N_VARS))
        model.get_layer("future_linear").kernel.assign(v.astype("float32"))
        unit = instance_norm(x.astype("float64"))[2] if name == "rlinear" else 1.0  # RevIN's affine is identity
        np.testing.assert_allclose(predict(model, (x, marks, y_mark, x_future)) - base, (u @ v) * unit, atol=1e-4)


def series(n_steps=900):
    """Three variates of a daily cycle, a 16-step oscillation and a level: each the past's exact linear image."""
    t = np.arange(n_steps)[:, None]
    k = np.arange(N_VARS)
    values = (k + 2) * np.sin(2 * np.pi * t / 24 + k) + np.cos(2 * np.pi * t / 16 + 2 * k) + 5.0 + 3 * k
    dates = pd.date_range("2021-01-04", periods=n_steps, freq="h")
    return values, time_features(dates, "h")


def windows(values, marks, starts, future_marks=False):
    past, ahead = starts[:, None] + np.arange(SEQ), starts[:, None] + SEQ + np.arange(PRED)
    inputs = (values[past], marks[past]) + ((marks[ahead],) if future_marks else ())
    return tuple(a.astype("float32") for a in inputs), values[ahead]


@pytest.mark.parametrize(
    "name, hparams",
    [("rlinear", {}), ("dlinear", {}), ("dlinear", {"individual": True}), ("linear", {"revin": True})],
    ids=["rlinear", "dlinear", "dlinear-individual", "linear-revin"],
)
def test_closed_form_forecasts_a_linearly_predictable_series_exactly(name, hparams):
    values, marks = series()
    future_marks = name == "linear"  # CycleLinear reads the forecast steps' phases off y_mark
    train = windows(values, marks, np.arange(0, 600, 2), future_marks)
    test = windows(values, marks, np.arange(700, 830, 7), future_marks)
    model = make(name, future_marks=future_marks, **hparams)
    info = fit_least_squares(model, train, test, alphas=(0.0, 100.0))
    assert info["alpha"] == 0.0 and info["val_mse"] < 1e-8
    np.testing.assert_allclose(predict(model, test[0]), test[1], atol=1e-4)


def test_rlinear_closed_form_recovers_its_own_weights_with_masked_future_covariates():
    # Windows made by RLinear's formula (identity affine) with known W, b, V; unknown covariates NaN.
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=(n, SEQ, N_VARS)) * rng.uniform(0.5, 3, size=(n, 1, N_VARS)) + rng.normal(size=(n, 1, N_VARS))
    x_future = rng.normal(size=(n, PRED, 2))
    mask = (rng.uniform(size=x_future.shape) < 0.7).astype("float64")
    u = np.concatenate([np.where(mask > 0, x_future, 0.0), mask], -1)
    w, b, v = rng.normal(size=(SEQ, PRED)) / SEQ, rng.normal(size=PRED), rng.normal(size=(4, N_VARS))
    x_norm, mean, std = instance_norm(x)
    y = (np.einsum("nlc,lh->nhc", x_norm, w) + b[:, None] + u @ v) * std + mean
    marks = np.zeros((n, SEQ, MARKS))
    arrays = tuple(a.astype("float32") for a in (x, marks, np.where(mask > 0, x_future, np.nan), mask))
    model = make("rlinear", future_dim=2, future_mask=True)
    fit_least_squares(model, (arrays, y), alphas=(0.0,))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("future_linear").kernel), v, atol=1e-4)
    np.testing.assert_allclose(predict(model, arrays), y, atol=1e-4)


def test_dlinear_closed_form_recovers_each_variates_covariate_effect():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(700, 1))
    values = 3.0 + z * np.array([1.0, -2.0, 0.5])
    marks = np.zeros((700, MARKS))

    def split(starts):
        (x, m), y = windows(values, marks, starts)
        return (x, m, z[starts[:, None] + SEQ + np.arange(PRED)].astype("float32")), y

    model = make("dlinear", future_dim=1)
    fit_least_squares(model, split(np.arange(0, 500)), alphas=(0.0,))
    kernel = keras.ops.convert_to_numpy(model.get_layer("future_linear").kernel)
    np.testing.assert_allclose(kernel, [[1.0, -2.0, 0.5]], atol=1e-4)
    test = split(np.arange(550, 630, 5))
    np.testing.assert_allclose(predict(model, test[0]), test[1], atol=1e-4)


def test_closed_form_sets_revins_affine_to_identity_and_fits_the_target_alone():
    values, marks = series()
    (x, m), y = windows(values, marks, np.arange(0, 600, 3))
    model = make("rlinear", target_index=2)
    model.get_layer("revin").affine_weight.assign(np.full(N_VARS, 2.0, "float32"))
    fit_least_squares(model, ((x, m), y[..., 2:]), alphas=(0.0,))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.get_layer("revin").affine_weight), np.ones(N_VARS))
    np.testing.assert_allclose(predict(model, (x[:20], m[:20])), y[:20, :, 2:], atol=1e-4)


def test_which_models_have_a_closed_form_and_the_others_are_refused():
    assert [has_closed_form(n) for n in ("linear", "rlinear", "dlinear", "cyclelinear", "patchtst")] == [
        True, True, True, True, False,
    ]
    assert has_closed_form(make("dlinear"))
    x = keras.Input((SEQ, N_VARS))
    other = keras.Model(x, keras.layers.Identity()(x), name="lstm")
    with pytest.raises(ValueError, match=r"`model` must be one with a closed form \(cyclelinear, dlinear, rlinear\), "
                                         "got 'lstm'"):
        fit_least_squares(other, ((), ()))
    with pytest.raises(TypeError, match="`model` must be a built keras.Model, got str"):
        fit_least_squares("rlinear", ((), ()))


def test_series_decomposition_is_the_edge_padded_moving_average_and_its_rest():
    x = np.random.default_rng(0).normal(size=(2, 11, 3)).astype("float32")
    layer = SeriesDecomposition(5)
    seasonal, trend = (keras.ops.convert_to_numpy(t) for t in layer(x))
    expected_seasonal, expected_trend = decompose(x.astype("float64"), 5)
    assert seasonal.shape == trend.shape == x.shape  # the length is kept
    np.testing.assert_allclose(trend, expected_trend, atol=1e-6)
    np.testing.assert_allclose(seasonal, expected_seasonal, atol=1e-6)
    clone = SeriesDecomposition.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.get_config() == layer.get_config() and clone.kernel_size == 5
    with pytest.raises(ValueError, match="`kernel_size` must be a positive odd integer, got 4"):
        SeriesDecomposition(4)
