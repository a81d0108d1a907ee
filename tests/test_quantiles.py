"""Probabilistic forecasts: quantile levels, the Pinball loss, `QuantileHead`/`with_quantiles`, calibration.

On whichever backend `KERAS_BACKEND` names; the calibration tests are numpy only.
"""

import json
import math
import statistics

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasfactory.forecast import calibration
from kerasfactory.losses import Pinball
from kerasfactory.models import build_model
from kerasfactory.models.quantile_head import QuantileHead, model_quantiles, with_quantiles
from kerasfactory.quantiles import central_pairs, check_quantiles

SEQ, PRED, N_VARS, MARKS = 16, 4, 2, 4
TINY = {
    "rlinear": {},
    "linear": {},
    "patchtst": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8, "patch_len": 8, "stride": 4, "dropout": 0.0},
}
LEVELS = ((0.1, 0.5, 0.9), (0.05, 0.25, 0.75, 0.95), (0.2,), (0.6, 0.7))  # with and without the median
SETTINGS = settings(
    max_examples=12, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_BUILT = {}


def wrapped(name, quantiles=(0.1, 0.5, 0.9), target_index=None):
    """A shared wrapped model per configuration (building is the slow part); tests that change weights
    restore them."""
    key = (name, quantiles, target_index)
    if key not in _BUILT:
        point = build_model(
            name, seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=target_index, seed=0,
            **TINY[name],
        )
        _BUILT[key] = with_quantiles(point, quantiles)
    return _BUILT[key]


def batch(n=3, seed=0, level=10.0, scale=3.0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, SEQ, N_VARS)) * scale + level).astype("float32")
    marks = rng.uniform(-0.5, 0.5, size=(n, SEQ, MARKS)).astype("float32")
    return x, marks


def predict(model, *inputs):
    return keras.ops.convert_to_numpy(model(list(inputs), training=False))


# --- quantile levels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, error, shown",
    [
        ((0.0, 0.5), ValueError, "(0.0, 0.5)"),
        ((0.5, 1.0), ValueError, "(0.5, 1.0)"),
        ((-0.1, 0.5), ValueError, "(-0.1, 0.5)"),
        ((0.5, 0.1), ValueError, "(0.5, 0.1)"),
        ((0.1, 0.1), ValueError, "(0.1, 0.1)"),
        ((0.1, float("nan")), ValueError, "(0.1, nan)"),
        ((), ValueError, "()"),
        ([], ValueError, "[]"),
        ((True, 0.5), TypeError, "(True, 0.5)"),
        (("0.5",), TypeError, "('0.5',)"),
        (0.5, TypeError, "0.5"),
        ("0.5", TypeError, "'0.5'"),
        (None, TypeError, "None"),
    ],
)
def test_bad_quantiles_raise_naming_the_argument_and_the_values(bad, error, shown):
    for check in (check_quantiles, Pinball, lambda q: QuantileHead(q), lambda q: calibration.coverage(
        np.zeros((1, 1, 1, 2)), np.zeros((1, 1, 1)), q
    )):
        with pytest.raises(error, match="`quantiles` must") as info:
            check(bad)
        assert shown in str(info.value)


def test_unsorted_quantiles_message_reads_as_documented():
    with pytest.raises(ValueError) as info:
        check_quantiles((0.5, 0.1))
    assert str(info.value) == "`quantiles` must be sorted, distinct values in (0, 1), got (0.5, 0.1)"


def test_good_quantiles_come_back_as_a_tuple_of_floats():
    assert check_quantiles(np.array([0.1, 0.5, 0.9], "float32")) == pytest.approx((0.1, 0.5, 0.9))
    assert check_quantiles([np.float64(0.25), 1 / 2]) == (0.25, 0.5)
    assert all(type(q) is float for q in check_quantiles((np.float32(0.1), 0.9)))
    assert central_pairs((0.05, 0.1, 0.5, 0.7, 0.9, 0.95)) == ((0, 5), (1, 4))


# --- Pinball ---------------------------------------------------------------------------------------------------


def test_pinball_matches_its_formula_on_hand_values():
    quantiles = (0.1, 0.5, 0.9)
    y = np.array([[[1.0], [2.0]]], "float32")  # (1, 2, 1)
    p = np.array([[[[0.0, 1.0, 3.0]], [[2.5, 2.5, 2.5]]]], "float32")  # (1, 2, 1, 3)
    # step 0: errors 1, 0, -2 -> 0.1*1, 0, (0.9-1)*(-2) = 0.2; step 1: errors -0.5 -> 0.45, 0.25, 0.05
    expected = (0.1 + 0.0 + 0.2 + 0.45 + 0.25 + 0.05) / 6
    assert float(Pinball(quantiles)(y, p)) == pytest.approx(expected, rel=1e-6)
    assert calibration.pinball_loss(p, y, quantiles) == pytest.approx(expected, rel=1e-6)
    assert calibration.crps(p, y, quantiles) == pytest.approx(2 * expected, rel=1e-6)
    # sample weights weigh windows
    y2, p2 = np.concatenate([y, y]), np.concatenate([p, p + 100.0])
    assert float(Pinball(quantiles)(y2, p2, sample_weight=np.array([1.0, 0.0]))) == pytest.approx(expected / 2)


def test_pinball_refuses_a_forecast_with_another_number_of_levels():
    with pytest.raises(ValueError, match=r"`y_pred` last dimension must equal len\(`quantiles`\)=3, got 2"):
        Pinball((0.1, 0.5, 0.9))(np.zeros((1, 2, 1), "float32"), np.zeros((1, 2, 1, 2), "float32"))


def test_pinball_serialises():
    loss = Pinball((0.1, 0.9), name="pb")
    again = keras.losses.deserialize(json.loads(json.dumps(keras.losses.serialize(loss))))
    assert isinstance(again, Pinball) and again.quantiles == (0.1, 0.9) and again.name == "pb"
    assert Pinball.from_config(loss.get_config()).get_config() == loss.get_config()


def test_pinball_trains_a_wrapped_model():
    t = np.arange(160 + SEQ + PRED, dtype="float32")
    rng = np.random.default_rng(1)
    series = np.stack([np.sin(2 * np.pi * t / 8 + k) * (k + 2) for k in range(N_VARS)], 1)
    series = series + rng.normal(scale=0.3, size=series.shape).astype("float32")
    starts = np.arange(0, 160, 2)
    x = series[starts[:, None] + np.arange(SEQ)]
    y = series[starts[:, None] + SEQ + np.arange(PRED)]
    marks = np.zeros((len(starts), SEQ, MARKS), "float32")
    point = build_model("rlinear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, seed=0)
    model = with_quantiles(point, (0.1, 0.5, 0.9))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=Pinball((0.1, 0.5, 0.9)))
    before = model.evaluate([x, marks], y, verbose=0)
    model.fit([x, marks], y, batch_size=16, epochs=4, verbose=0, shuffle=False)
    after = model.evaluate([x, marks], y, verbose=0)
    assert after < 0.7 * before
    assert np.all(np.diff(predict(model, x, marks), axis=-1) >= 0)


# --- QuantileHead / with_quantiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TINY))
@SETTINGS
@given(
    seed=st.integers(0, 2**31 - 1),
    weight_scale=st.sampled_from((0.1, 1.0, 5.0)),
    levels=st.sampled_from(LEVELS),
    target=st.sampled_from((None, 1)),
    level=st.floats(-1e3, 1e3),
    scale=st.sampled_from((0.0, 1e-3, 1.0, 100.0)),
)
def test_quantiles_never_cross_whatever_the_weights(name, seed, weight_scale, levels, target, level, scale):
    # Every weight random (offsets of either sign, RevIN affine weights negative or near 0, ...): the head
    # acts on the final output in data units, so nothing upstream can reorder the levels.
    model = wrapped(name, levels, target)
    saved = model.get_weights()
    rng = np.random.default_rng(seed)
    try:
        model.set_weights([(rng.normal(size=w.shape) * weight_scale).astype(w.dtype) for w in saved])
        x, marks = batch(seed=seed % 1000, level=level, scale=scale)
        pred = predict(model, x, marks)
    finally:
        model.set_weights(saved)
    assert pred.shape == (3, PRED, N_VARS if target is None else 1, len(levels))
    finite = np.isfinite(pred).all(axis=-1)
    assert finite.any()
    assert np.all(np.diff(pred[finite], axis=-1) >= 0)


@pytest.mark.parametrize("target", [None, 1])
def test_the_point_forecast_is_the_median_and_initial_intervals_are_normal_quantiles_times_the_window_std(target):
    point = build_model("rlinear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=target)
    model = with_quantiles(point, (0.1, 0.25, 0.5, 0.75, 0.9))
    x, marks = batch()
    pred, m = predict(model, x, marks), predict(point, x, marks)
    np.testing.assert_array_equal(pred[..., 2], m)
    columns = slice(None) if target is None else slice(target, target + 1)
    s = np.sqrt(x[..., columns].var(axis=1) + 1e-5)[:, None, :]
    for k, q in enumerate((0.1, 0.25, 0.5, 0.75, 0.9)):
        z = statistics.NormalDist().inv_cdf(q)
        np.testing.assert_allclose(pred[..., k], m + z * s, rtol=1e-5, atol=1e-4)


def test_without_the_median_the_point_forecast_is_still_the_centre():
    point = build_model("linear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=0)
    model = with_quantiles(point, (0.1, 0.9))
    x, marks = batch()
    pred, m = predict(model, x, marks), predict(point, x, marks)
    np.testing.assert_allclose(pred.mean(axis=-1), m, rtol=1e-5, atol=1e-4)
    assert np.all(pred[..., 0] < m) and np.all(m < pred[..., 1])


def test_build_model_quantiles_keyword_wraps_the_same_point_model():
    kwargs = dict(seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, future_marks=True, seed=3,
                  **TINY["patchtst"])
    model = build_model("patchtst", quantiles=(0.1, 0.5, 0.9), **kwargs)
    point = build_model("patchtst", **kwargs)
    assert model_quantiles(model) == (0.1, 0.5, 0.9) and model_quantiles(point) is None
    assert [t.name for t in model.inputs] == ["x", "x_mark", "y_mark"]
    x, marks = batch()
    y_marks = marks[:, :PRED]
    np.testing.assert_allclose(predict(model, x, marks, y_marks)[..., 1], predict(point, x, marks, y_marks),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="`quantiles` must"):
        build_model("rlinear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, quantiles=(0.9, 0.1))


def test_save_and_load_keras_file_gives_identical_predictions(tmp_path):
    model = with_quantiles(
        build_model("patchtst", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=1, seed=0,
                    future_dim=1, future_mask=True, **TINY["patchtst"]),
        (0.05, 0.5, 0.95),
    )
    # Weights away from their starting values, so the round trip carries learned offsets.
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    model.compile(optimizer="adam", loss=Pinball((0.05, 0.5, 0.95)))
    model.optimizer.build(model.trainable_variables)  # saved with its variables: no mismatch warning on load
    x, marks = batch()
    future, mask = np.ones((3, PRED, 1), "float32"), np.ones((3, PRED, 1), "float32")
    before = predict(model, x, marks, future, mask)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(predict(loaded, x, marks, future, mask), before)
    assert model_quantiles(loaded) == (0.05, 0.5, 0.95)
    assert isinstance(loaded.loss, Pinball) and loaded.loss.quantiles == (0.05, 0.5, 0.95)


def test_with_quantiles_checks_its_arguments():
    point = build_model("rlinear", seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=1)
    with pytest.raises(ValueError, match=r"`target_index` must match the model's target layer \(1\), got 0"):
        with_quantiles(point, (0.1, 0.9), target_index=0)
    assert with_quantiles(point, (0.1, 0.9), target_index=1).output.shape == (None, PRED, 1, 2)
    with pytest.raises(ValueError, match="must be a point forecaster"):
        with_quantiles(with_quantiles(point, (0.1, 0.9)), (0.1, 0.9))
    with pytest.raises(TypeError, match="`model` must be"):
        with_quantiles("rlinear", (0.1, 0.9))
    head = QuantileHead((0.1, 0.9))
    with pytest.raises(ValueError, match="`x` last dimension must equal the point forecast's n_out=1"):
        head(np.zeros((1, PRED, 1), "float32"), np.zeros((1, SEQ, 2), "float32"))
    with pytest.raises(ValueError, match="`epsilon` must be a positive number, got 0"):
        QuantileHead((0.1, 0.9), epsilon=0)


def test_quantile_head_serialises():
    head = QuantileHead((0.2, 0.5), target_index=2, epsilon=1e-3, name="q")
    again = keras.layers.deserialize(json.loads(json.dumps(keras.layers.serialize(head))))
    assert isinstance(again, QuantileHead) and again.get_config() == head.get_config()


# --- calibration (numpy) ---------------------------------------------------------------------------------------


def gaussian_windows(n, sigma, seed, narrow=0.5):
    """Truths `signal + N(0, sigma_h)` and a forecast whose intervals are `narrow` times the right width."""
    rng = np.random.default_rng(seed)
    quantiles = (0.1, 0.25, 0.5, 0.75, 0.9)
    z = np.array([statistics.NormalDist().inv_cdf(q) for q in quantiles])
    signal = rng.normal(size=(n, len(sigma), 2))
    sigma = np.asarray(sigma)[None, :, None]
    y = signal + rng.normal(size=signal.shape) * sigma
    pred_q = signal[..., None] + narrow * z * sigma[..., None]
    return pred_q, y, quantiles


@pytest.mark.parametrize("narrow", [0.5, 2.0])  # too narrow, then too wide
def test_conformal_reaches_nominal_coverage_on_fresh_windows(narrow):
    sigma = (0.5, 1.0, 2.0)
    pred_q, y, quantiles = gaussian_windows(3000, sigma, seed=0, narrow=narrow)
    adjustment = json.loads(json.dumps(calibration.fit_conformal(pred_q, y, quantiles)))  # JSON-friendly
    assert adjustment["levels"] == ["0.8", "0.5"]
    assert np.asarray(adjustment["adjustment"]).shape == (2, len(sigma), 2)
    fresh_q, fresh_y, _ = gaussian_windows(4000, sigma, seed=1, narrow=narrow)
    raw = calibration.coverage(fresh_q, fresh_y, quantiles)
    assert abs(raw["0.8"] - 0.8) > 0.1
    calibrated = calibration.apply_conformal(fresh_q, adjustment)
    per_step = calibration.coverage(calibrated, fresh_y, quantiles, per_step=True)
    for level, shares in per_step.items():
        assert len(shares) == len(sigma)
        assert all(abs(share - float(level)) < 0.03 for share in shares), (level, shares)
    np.testing.assert_array_equal(calibrated[..., 2], fresh_q[..., 2])  # the median never moves
    assert np.all(np.diff(calibrated, axis=-1) >= 0)


def test_apply_conformal_keeps_the_order_and_the_centre_when_narrowing_a_lot():
    quantiles = (0.1, 0.4, 0.6, 0.9)  # no median: the centre is the innermost pair's midpoint
    pred_q = np.array([[[[-2.0, -0.2, 0.4, 3.0]]]])
    adjustment = {"quantiles": list(quantiles), "pairs": [[0, 3], [1, 2]], "levels": ["0.8", "0.2"],
                  "adjustment": [[[-5.0]], [[-1.0]]]}
    out = calibration.apply_conformal(pred_q, adjustment)
    np.testing.assert_allclose(out[0, 0, 0], [0.1, 0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="`adjustment` must be"):
        calibration.apply_conformal(np.zeros((1, 2, 1, 4)), adjustment)


def test_conformal_rank_is_the_finite_sample_quantile_and_skips_missing_truths():
    quantiles = (0.1, 0.9)
    y = np.arange(1.0, 10.0)[:, None, None] + 0.5  # 9 windows, scores 1..9 in widths of the interval [-0.5, 0.5]
    pred_q = np.broadcast_to(np.array([-0.5, 0.5]), (9, 1, 1, 2))
    # ceil((9 + 1) * 0.8) = 8 -> the 8th smallest score
    assert calibration.fit_conformal(pred_q, y, quantiles)["adjustment"] == [[[8.0]]]
    y[0] = np.nan  # 8 windows: ceil(9 * 0.8) = 8 -> the largest of 2..9
    fitted = calibration.fit_conformal(pred_q, y, quantiles)
    assert fitted["adjustment"] == [[[9.0]]] and fitted["score"] == "width"
    assert calibration.coverage(pred_q, y, quantiles) == {"0.8": 0.0}
    # widened by 9 widths on each side: [-9.5, 9.5]; an adjustment saved without "score" is absolute
    np.testing.assert_allclose(calibration.apply_conformal(pred_q[:1], fitted)[0, 0, 0], [-9.5, 9.5])
    absolute = {k: v for k, v in fitted.items() if k != "score"}
    np.testing.assert_allclose(calibration.apply_conformal(pred_q[:1], absolute)[0, 0, 0], [-9.5, 9.5])
    np.testing.assert_allclose(calibration.apply_conformal(2 * pred_q[:1], absolute)[0, 0, 0], [-10.0, 10.0])


def test_metrics_are_json_floats_and_crps_approximates_the_gaussian_one():
    quantiles = tuple(round(0.05 * k, 2) for k in range(1, 20))
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4000, 2, 1))
    z = np.array([statistics.NormalDist().inv_cdf(q) for q in quantiles])
    pred_q = np.broadcast_to(z, (*y.shape, len(z)))
    crps = calibration.crps(pred_q, y, quantiles)
    # N(0, 1) forecast, N(0, 1) truths: exactly 1/sqrt(pi); 19 levels give about 5 % more
    assert isinstance(crps, float) and crps == pytest.approx(1 / math.sqrt(math.pi), rel=0.08)
    width = calibration.mean_width(pred_q, quantiles)
    assert width["0.9"] == pytest.approx(2 * 1.6449, rel=1e-3) and set(width) >= {"0.1", "0.5", "0.8", "0.9"}
    assert len(calibration.mean_width(pred_q, quantiles, per_step=True)["0.8"]) == 2
    assert len(calibration.pinball_loss(pred_q, y, quantiles, per_step=True)) == 2
    json.dumps([calibration.coverage(pred_q, y, quantiles, per_step=True), width, crps])


def test_residual_quantiles_give_intervals_for_a_point_forecast():
    rng = np.random.default_rng(0)
    quantiles = (0.1, 0.5, 0.9)
    sigma = np.array([0.5, 3.0])[None, :, None]
    val_y = rng.normal(size=(2000, 2, 1)) * sigma + 1.0  # a point forecast of 0 is biased by 1
    offsets = calibration.residual_quantiles(np.zeros_like(val_y), val_y, quantiles)
    assert np.asarray(offsets).shape == (2, 1, 3)
    np.testing.assert_allclose(np.asarray(offsets)[:, 0, 1], 1.0, atol=0.15)
    fresh_y = rng.normal(size=(2000, 2, 1)) * sigma + 1.0
    pred_q = calibration.add_residual_quantiles(np.zeros_like(fresh_y), offsets)
    assert all(abs(c - 0.8) < 0.03 for c in calibration.coverage(pred_q, fresh_y, quantiles, per_step=True)["0.8"])
