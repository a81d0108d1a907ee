"""`Forecaster(..., quantiles=...)` and `forecast --quantiles`: intervals around an unchanged point model."""

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from kerasfactory.forecast.cli import main
from kerasfactory.forecast.forecaster import Forecaster, UsageError

SEQ, PRED = 24, 8
LEVELS = (0.1, 0.5, 0.9)


def hourly(rows=480, noise=0.5):
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    temp = 10 + 4 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, rows)
    load = 30 + 5 * np.sin(2 * np.pi * (t - 3) / 24) + 0.5 * temp + rng.normal(0, noise, rows)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="h"), "temp": temp, "load": load})


@pytest.fixture(scope="module")
def fitted():
    fc = Forecaster("rlinear", seq_len=SEQ, pred_len=PRED, quantiles=LEVELS, seed=1)
    return fc.fit(hourly(), target="load")


def test_bad_quantiles_are_usage_errors_naming_the_values():
    with pytest.raises(UsageError, match=r"sorted, distinct.*\(0\.9, 0\.1\)"):
        Forecaster("rlinear", quantiles=(0.9, 0.1))
    with pytest.raises(UsageError, match=r"1\.5"):
        Forecaster("rlinear", quantiles=[0.5, 1.5])
    with pytest.raises(UsageError, match="calibrate"):
        Forecaster("rlinear", quantiles=LEVELS, calibrate="yes")


def test_point_forecasts_and_errors_are_unchanged(fitted):
    plain = Forecaster("rlinear", seq_len=SEQ, pred_len=PRED, seed=1).fit(hourly(), target="load")
    with_q, plain_scores = fitted.evaluate(), plain.evaluate()
    assert with_q["metrics"] == plain_scores["metrics"]
    assert "intervals" not in plain_scores and "quantile_predictions" not in plain_scores
    a, b = fitted.predict(hourly()), plain.predict(hourly())
    np.testing.assert_allclose(a["load"], b["load"], rtol=1e-6)
    assert list(b.columns) == ["date", "load"]


def test_predict_adds_quantile_columns_that_never_cross(fitted):
    frame = fitted.predict(hourly())
    assert list(frame.columns) == ["date", "load", "load_q0.1", "load_q0.5", "load_q0.9"]
    values = frame[["load_q0.1", "load_q0.5", "load_q0.9"]].to_numpy()
    assert np.all(np.diff(values, axis=1) >= 0) and np.all(values[:, 2] > values[:, 0])
    np.testing.assert_allclose(frame["load_q0.5"], frame["load"], rtol=1e-6)


def test_evaluate_scores_the_intervals_of_the_model_and_the_baselines(fitted):
    scores = fitted.evaluate()
    rows = scores["intervals"]
    assert set(rows) == set(scores["metrics"])
    for name, entry in rows.items():
        assert set(entry) == {"pinball", "crps", "coverage", "coverage_per_step", "mean_width", "mean_width_per_step"}
        assert list(entry["coverage"]) == ["0.8"] and len(entry["coverage_per_step"]["0.8"]) == PRED
        assert entry["crps"] == pytest.approx(2 * entry["pinball"])
    # Gaussian noise around a daily cycle: the calibrated 80 % interval covers about 80 % of the test truths.
    assert 0.6 < rows["model"]["coverage"]["0.8"] < 0.95
    pred_q = scores["quantile_predictions"]["model"]
    assert pred_q.shape == (*scores["y"].shape, 3)
    assert fitted.conformal_["levels"] == ["0.8"]


def test_no_calibrate_keeps_the_initial_spread():
    fc = Forecaster("rlinear", seq_len=SEQ, pred_len=PRED, quantiles=LEVELS, calibrate=False, seed=1)
    fc.fit(hourly(), target="load")
    assert fc.conformal_ is None
    assert "0.8" in fc.evaluate()["intervals"]["model"]["coverage"]


def test_save_load_gives_the_same_intervals(fitted, tmp_path):
    fitted.save(tmp_path / "fc")
    settings = json.loads((tmp_path / "fc" / "forecaster.json").read_text())
    assert settings["options"]["quantiles"] == list(LEVELS) and settings["conformal"] == fitted.conformal_
    again = Forecaster.load(tmp_path / "fc")
    assert again.quantiles == LEVELS and again.calibrate
    pd.testing.assert_frame_equal(again.predict(hourly()), fitted.predict(hourly()), rtol=1e-6)


def run_cli(argv):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(argv)
    return code, printed.getvalue()


def test_cli_quantiles_writes_interval_metrics_columns_and_predictions(tmp_path, capsys):
    csv = tmp_path / "load.csv"
    hourly().to_csv(csv, index=False)
    out = tmp_path / "out"
    code, printed = run_cli(["forecast", "--csv", str(csv), "--target", "load", "--seq-len", str(SEQ),
                             "--pred-len", str(PRED), "--model", "rlinear", "--quantiles", "0.1,0.5,0.9",
                             "--out", str(out)])
    assert code == 0 and "Prediction intervals" in printed
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    for row in ("model", "repeat last value"):
        entry = metrics[row]
        assert {"mse", "mae", "pinball", "crps", "coverage", "intervals"} <= set(entry)
        assert 0.0 <= entry["coverage"]["0.8"] <= 1.0 and entry["crps"] > 0
        assert len(entry["intervals"]["coverage_per_step"]["0.8"]) == PRED
    forecasts = pd.read_csv(out / "test_forecasts.csv")
    assert {"model_q0.1", "model_q0.5", "model_q0.9"} <= set(forecasts.columns)
    assert (forecasts["model_q0.9"] >= forecasts["model_q0.1"]).all()

    code, _ = run_cli(["predict", "--model", str(out), "--csv", str(csv), "--out", str(tmp_path / "p.csv")])
    assert code == 0
    assert {"load", "load_q0.1", "load_q0.5", "load_q0.9"} <= set(pd.read_csv(tmp_path / "p.csv").columns)
    capsys.readouterr()
    code, _ = run_cli(["predict", "--model", str(out), "--csv", str(csv), "--quantiles", "0.05,0.95",
                       "--out", str(tmp_path / "q.csv")])
    assert code == 2 and "0.05,0.95" in capsys.readouterr().err and not (tmp_path / "q.csv").exists()


@pytest.mark.parametrize("bad, named", [("0.9,0.1", "(0.9, 0.1)"), ("0.1,x", "'0.1,x'"), ("0,0.5", "(0.0, 0.5)")])
def test_cli_bad_quantiles_exit_2_naming_them_and_write_nothing(tmp_path, capsys, bad, named):
    csv = tmp_path / "load.csv"
    hourly(rows=200).to_csv(csv, index=False)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["forecast", "--csv", str(csv), "--target", "load", "--model", "rlinear", "--quantiles", bad,
              "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--quantiles" in err and named in err and "Traceback" not in err
    assert not out.exists()


def test_calibration_refuses_a_level_without_its_mirror():
    with pytest.raises(UsageError, match=r"\[0.25\] have no partner .* add it \(e.g. 0.75\) or pass calibrate=False"):
        Forecaster("rlinear", quantiles=(0.1, 0.25, 0.9))
    assert Forecaster("rlinear", quantiles=(0.1, 0.25, 0.9), calibrate=False).quantiles == (0.1, 0.25, 0.9)
