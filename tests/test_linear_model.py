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


def future_windows(values, dates, freq, starts, covariates):
    """`((x, x_mark, y_mark, x_future), y)`: the windows of `windows` with the forecast steps' marks and covariates."""
    (x, m), y = windows(values, dates, freq, starts)
    marks = time_features(dates, freq)
    forecast_steps = starts[:, None] + SEQ + np.arange(PRED)
    return (x, m, marks[forecast_steps], covariates[forecast_steps].astype("float32")), y


def test_forecast_steps_marks_continuing_the_window_give_the_past_only_forecast():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2021-03-01 05:00", periods=200, freq="h")
    (x, m, y_mark, _), _ = future_windows(
        rng.normal(size=(200, N_VARS)), dates, "h", np.array([0, 7, 30]), np.zeros((200, 1))
    )
    past_only = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h")
    with_marks = build_model(
        "linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", future_marks=True
    )
    past_only.set_weights([rng.normal(size=w.shape).astype("float32") for w in past_only.get_weights()])
    with_marks.set_weights(past_only.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(with_marks([x, m, y_mark])), keras.ops.convert_to_numpy(past_only([x, m])),
        rtol=1e-6, atol=1e-6,
    )


def test_forecast_steps_take_their_phase_from_their_own_marks_and_covariates_add_a_linear_term():
    # y[h, c] = Q[phase of y_mark[h], c] + b[h] + sum_s W[s, h] (x[s, c] - Q[(p + s) % P, c]) + sum_j u[h, j] V[j, c]
    rng = np.random.default_rng(1)
    model = build_model(
        "linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", future_marks=True, future_dim=2
    )
    table = rng.normal(size=(24, N_VARS)).astype("float32")
    kernel = rng.normal(size=(SEQ, PRED)).astype("float32") / SEQ
    bias = rng.normal(size=PRED).astype("float32")
    future = rng.normal(size=(2, N_VARS)).astype("float32")
    model.get_layer("cycle").table.assign(table)
    model.get_layer("linear").kernel.assign(kernel)
    model.get_layer("linear").bias.assign(bias)
    model.get_layer("future_linear").kernel.assign(future)
    x = rng.normal(size=(1, SEQ, N_VARS)).astype("float32")
    past = pd.date_range("2021-03-01 05:00", periods=SEQ, freq="h")
    ahead = pd.date_range("2021-03-03 17:00", periods=PRED, freq="3h")  # a gap and a coarser step
    u = rng.normal(size=(1, PRED, 2)).astype("float32")
    got = keras.ops.convert_to_numpy(
        model([x, time_features(past, "h")[None], time_features(ahead, "h")[None], u])
    )[0]
    expected = table[ahead.hour] + bias[:, None] + kernel.T @ (x[0] - table[past.hour]) + u[0] @ future
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_mark_columns_appended_after_the_timef_ones_do_not_move_the_cycle():
    rng = np.random.default_rng(2)
    dates = pd.date_range("2021-03-01 05:00", periods=200, freq="h")
    (x, m, y_mark, _), _ = future_windows(
        rng.normal(size=(200, N_VARS)), dates, "h", np.array([0, 7, 30]), np.zeros((200, 1))
    )
    def extra(marks):
        return np.concatenate([marks, rng.uniform(size=marks.shape[:2] + (2,))], -1).astype("float32")

    plain = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", future_marks=True)
    wide = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=6, freq="h", future_marks=True)
    plain.set_weights([rng.normal(size=w.shape).astype("float32") for w in plain.get_weights()])
    wide.set_weights(plain.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(wide([x, extra(m), extra(y_mark)])),
        keras.ops.convert_to_numpy(plain([x, m, y_mark])),
        rtol=1e-6, atol=1e-6,
    )


def test_least_squares_fit_with_future_covariates_is_the_joint_ridge_solution():
    # Against the normal equations solved directly over the full design (W, b shared; V per variate),
    # unknown covariates NaN in x_future: they must read as 0, with the mask as more columns.
    rng = np.random.default_rng(3)
    n_steps = 400
    dates = pd.date_range("2021-01-04", periods=n_steps, freq="h")
    values = rng.normal(size=(n_steps, N_VARS)).cumsum(0)
    covariates = rng.normal(size=(n_steps, 2))
    (x, m, y_mark, u), y = future_windows(values, dates, "h", np.arange(0, 300, 3), covariates)
    mask = (rng.uniform(size=u.shape) < 0.7).astype("float32")
    u = np.where(mask > 0, u, np.float32(np.nan))
    model = build_model(
        "linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h",
        future_marks=True, future_dim=2, future_mask=True,
    )
    alpha = 10.0
    fit_least_squares(model, ((x, m, y_mark, u, mask), y), alphas=(alpha,))

    cycle = model.get_layer("cycle")
    table = keras.ops.convert_to_numpy(cycle.table).astype("float64")
    first = keras.ops.convert_to_numpy(cycle.phase(keras.ops.convert_to_tensor(m)))
    ahead = keras.ops.convert_to_numpy(cycle.phases(keras.ops.convert_to_tensor(y_mark)))
    a = x - table[(first[:, None] + np.arange(SEQ)) % 24]  # (n, SEQ, c)
    b = y - table[ahead]  # (n, PRED, c)
    features = np.concatenate([np.where(mask > 0, u, 0.0), mask], -1)  # (n, PRED, 4)
    n, k = len(x), features.shape[-1]
    rows, targets = [], []
    for i in range(n):
        for c in range(N_VARS):
            for h in range(PRED):
                row = np.zeros(SEQ * PRED + PRED + N_VARS * k)
                row[h : SEQ * PRED : PRED] = a[i, :, c]  # W[s, h] at s * PRED + h
                row[SEQ * PRED + h] = 1.0
                row[SEQ * PRED + PRED + c * k : SEQ * PRED + PRED + (c + 1) * k] = features[i, h]
                rows.append(row)
                targets.append(b[i, h, c])
    design = np.asarray(rows)
    penalty = np.sqrt(alpha) * np.eye(SEQ * PRED, design.shape[1])
    solution = np.linalg.lstsq(np.vstack([design, penalty]), np.r_[targets, np.zeros(SEQ * PRED)], rcond=None)[0]
    w = solution[: SEQ * PRED].reshape(SEQ, PRED)
    bias = solution[SEQ * PRED : SEQ * PRED + PRED]
    v = solution[SEQ * PRED + PRED :].reshape(N_VARS, k).T
    scale = np.abs(solution).max()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("linear").kernel), w, atol=1e-4 * scale)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("linear").bias), bias, atol=1e-4 * scale)
    future_kernel = keras.ops.convert_to_numpy(model.get_layer("future_linear").kernel)
    np.testing.assert_allclose(future_kernel, v, atol=1e-4 * scale)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(model([x, m, y_mark, u, mask]))))


def test_least_squares_fit_recovers_each_variates_covariate_effect():
    # No cycle, a covariate effect per variate and nothing else: the fit forecasts unseen windows exactly.
    rng = np.random.default_rng(4)
    n_steps = 900
    dates = pd.date_range("2021-01-04", periods=n_steps, freq="h")
    z = rng.normal(size=(n_steps, 1))
    train_starts = np.arange(0, 600)
    # The table (period 1: each variate's mean over the training windows) must see z with mean 0.
    covered = np.bincount((train_starts[:, None] + np.arange(SEQ + PRED)).ravel(), minlength=n_steps)
    z -= (covered @ z) / covered.sum()
    values = 3.0 + z * np.array([1.0, -2.0, 0.5])
    train = future_windows(values, dates, "h", train_starts, z)
    test = future_windows(values, dates, "h", np.arange(650, 830, 5), z)
    model = build_model(
        "linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", period=1,
        future_marks=True, future_dim=1,
    )
    fit_least_squares(model, train, alphas=(0.0,))
    future_kernel = keras.ops.convert_to_numpy(model.get_layer("future_linear").kernel)
    np.testing.assert_allclose(future_kernel, [[1.0, -2.0, 0.5]], atol=1e-3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(list(test[0]))), test[1], atol=2e-3)


def test_least_squares_fit_needs_every_model_input():
    model = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=4, freq="h", future_dim=1)
    x, m, y = np.zeros((2, SEQ, N_VARS)), np.zeros((2, SEQ, 4)), np.zeros((2, PRED, N_VARS))
    with pytest.raises(ValueError, match=r"`train` inputs must be the model's 3 inputs \(x, x_mark, x_future\), got 2"):
        fit_least_squares(model, ((x, m), y))
