"""CycleLinear (`kerasfactory.models`, "linear"): its formula, the phase read off the marks, the closed-form fit."""

import keras
import numpy as np
import pandas as pd
import pytest

from kerasfactory.models import build_model, fit_least_squares
from kerasfactory.models.linear import Cycle, cycle_period
from kerasfactory.time_features import time_features

SEQ, PRED, N_VARS = 48, 12, 3


def windows(values, dates, freq, starts):
    marks = time_features(dates, freq)
    x = values[starts[:, None] + np.arange(SEQ)].astype("float32")
    m = marks[starts[:, None] + np.arange(SEQ)]
    y = values[starts[:, None] + SEQ + np.arange(PRED)].astype("float32")
    return (x, m), y


@pytest.mark.parametrize(
    "freq, period, phase",
    [
        ("h", 24, lambda d: d.hour),
        ("30min", 48, lambda d: d.hour * 2 + d.minute // 30),
        ("15min", 96, lambda d: d.hour * 4 + d.minute // 15),
        ("D", 7, lambda d: d.dayofweek),
    ],
)
def test_phase_is_the_step_within_the_day_or_week_read_off_the_timef_marks(freq, period, phase):
    dates = pd.date_range("2021-03-01 00:00", periods=400, freq=freq)
    assert cycle_period(freq) == period
    cycle = Cycle(period, 1, 1, freq=freq)
    marks = time_features(dates, freq)[:, None, :]  # every date as the first step of a window
    got = keras.ops.convert_to_numpy(cycle.phase(keras.ops.convert_to_tensor(marks)))
    np.testing.assert_array_equal(got, np.asarray(phase(dates)) % period)


def test_output_is_the_cycle_plus_a_shared_linear_map_of_the_decycled_input():
    rng = np.random.default_rng(0)
    model = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", seed=0)
    table = rng.normal(size=(24, N_VARS)).astype("float32")
    kernel = rng.normal(size=(SEQ, PRED)).astype("float32") / SEQ
    bias = rng.normal(size=PRED).astype("float32")
    model.get_layer("cycle").table.assign(table)
    model.get_layer("linear").kernel.assign(kernel)
    model.get_layer("linear").bias.assign(bias)
    dates = pd.date_range("2021-03-01 05:00", periods=200, freq="h")
    (x, marks), _ = windows(rng.normal(size=(200, N_VARS)), dates, "h", np.array([0, 7, 30]))
    got = keras.ops.convert_to_numpy(model([x, marks]))
    for i, start in enumerate([0, 7, 30]):
        phases = (5 + start + np.arange(SEQ + PRED)) % 24
        expected = table[phases[SEQ:]] + bias[:, None] + kernel.T @ (x[i] - table[phases[:SEQ]])
        np.testing.assert_allclose(got[i], expected, atol=1e-4)


def test_least_squares_fit_forecasts_a_cycle_plus_an_oscillation_exactly():
    # A daily cycle per variate plus a 10-step sinusoid: linearly predictable from the past
    # once the cycle is removed, so the closed-form fit must forecast unseen windows exactly.
    t = np.arange(1200)
    dates = pd.date_range("2021-01-04", periods=len(t), freq="h")
    cycle = np.stack([np.sin(2 * np.pi * t / 24 + k) * (k + 2) for k in range(N_VARS)], 1)
    values = cycle + np.stack([np.cos(2 * np.pi * t / 10 + k) for k in range(N_VARS)], 1) + 5.0
    train = windows(values, dates, "h", np.arange(0, 700))
    test = windows(values, dates, "h", np.arange(800, 1100, 7))
    model = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", seed=0)
    info = fit_least_squares(model, train, test, alphas=(0.0, 1e3))
    assert info["alpha"] == 0.0  # the exact solution scores best on the held-out windows
    got = keras.ops.convert_to_numpy(model(list(test[0])))
    np.testing.assert_allclose(got, test[1], atol=2e-3)


def test_target_only_fit_uses_the_target_variate():
    t = np.arange(900)
    dates = pd.date_range("2021-01-04", periods=len(t), freq="h")
    values = np.stack([np.sin(2 * np.pi * t / 24 + k) + 0.1 * k for k in range(N_VARS)], 1)
    (x, marks), y = windows(values, dates, "h", np.arange(0, 700))
    model = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", target_index=2)
    fit_least_squares(model, ((x, marks), y[..., 2:]))
    got = keras.ops.convert_to_numpy(model([x[:50], marks[:50]]))
    assert got.shape == (50, PRED, 1)
    np.testing.assert_allclose(got, y[:50, :, 2:], atol=2e-3)


def test_a_cycle_needs_time_of_day_or_day_of_week_marks():
    with pytest.raises(ValueError, match="`period` must be 1 for freq='W'"):
        build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=2, freq="W", period=52)
    model = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=2, freq="W")
    assert model.get_layer("cycle").period == 1


def test_marks_narrower_than_the_timef_width_are_refused():
    with pytest.raises(ValueError, match=r"`mark_dim` must be >= 4 \(the timeF width of freq='h'\), got 2"):
        build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=2, freq="h")


def test_non_numeric_marks_raise_the_same_type_error_as_every_layer():
    with pytest.raises(TypeError, match="`x_mark` must hold floats, integers or booleans, got dtype str"):
        Cycle(24, 7, 4)(np.full((1, 3, 4), "a"))
