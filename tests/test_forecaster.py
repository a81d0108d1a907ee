"""`kerasfactory.Forecaster`, the Python API the CLI wraps: fit, evaluate, predict, save, load."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kerasfactory.data import DataError
from kerasfactory.forecast.forecaster import Forecaster, UsageError

SEQ, PRED = 24, 12
EVENTS = pd.DataFrame({"event": ["sale", "sale", "outage"],
                       "date": ["2024-03-05", "2024-03-12", "2024-03-14"]})


def hourly(rows=360, start="2024-02-28"):
    rng = np.random.default_rng(1)
    dates = pd.date_range(start, periods=rows, freq="h")
    t = np.arange(rows)
    sale = dates.normalize().isin(pd.to_datetime(["2024-03-05", "2024-03-12"]))
    temp = 10 + 4 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.2, rows)
    load = 30 + 5 * np.sin(2 * np.pi * t / 24) + 0.5 * temp + 8 * sale + rng.normal(0, 0.3, rows)
    return pd.DataFrame({"date": dates, "temp": temp, "load": load})


@pytest.fixture(scope="module")
def fitted():
    fc = Forecaster("itransformer", seq_len=SEQ, pred_len=PRED, epochs=1, batch_size=1024, seed=3,
                    d_model=8, n_layers=1, d_ff=8)
    return fc.fit(hourly(), target="load", future_cols=["temp"], events=EVENTS)


def future_rows(frame, temp=10.0):
    steps = pd.date_range(frame.date.iloc[-1], periods=PRED + 1, freq="h")[1:]
    return pd.concat([frame, pd.DataFrame({"date": steps, "temp": temp, "load": np.nan})], ignore_index=True)


def test_importing_kerasfactory_and_its_forecaster_loads_no_backend():
    code = ("import sys, kerasfactory; kerasfactory.Forecaster; "
            "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_fit_keeps_what_predict_needs(fitted):
    import kerasfactory

    assert kerasfactory.Forecaster is Forecaster
    s = fitted.settings_
    assert s["inputs"] == ["temp", "load"] and s["outputs"] == ["load"] and s["future_cols"] == ["temp"]
    assert s["mark_names"][-2:] == ["event_outage", "event_sale"] and s["freq"] == "h"
    assert s["events"][0] == {"event": "sale", "date": "2024-03-05"}
    assert list(fitted.scalers_) == [""] and len(fitted.history_) == 1
    assert [t.name for t in fitted.model_.inputs] == ["x", "x_mark", "y_mark", "x_future"]
    assert "fitted" in repr(fitted)


def test_evaluate_scores_the_model_and_the_baselines(fitted):
    scores = fitted.evaluate()
    assert set(scores["metrics"]) == {"model", "repeat last value", "seasonal naive (period 24)", "linear (ridge)"}
    model = scores["metrics"]["model"]
    mean, scale = fitted.data_.target_scale()
    assert model["mse"] == pytest.approx(model["mse_scaled"] * scale**2)
    assert "per_series" not in scores and "holiday_days" not in scores  # one series, no holiday code
    assert scores["predictions"]["model"].shape == (fitted.data_.datasets["test"].num_windows, PRED, 1)


def test_predict_forecasts_the_steps_after_the_last_observed_target(fitted):
    frame = future_rows(hourly())
    forecast = fitted.predict(frame)
    assert list(forecast.columns) == ["date", "load"] and len(forecast) == PRED
    assert list(forecast.date) == list(frame.date.iloc[-PRED:])
    assert np.isfinite(forecast.load).all()
    # The known-ahead temperature is read: another value gives another forecast.
    assert not np.allclose(fitted.predict(future_rows(hourly(), temp=25.0)).load, forecast.load)


def test_save_and_load_give_the_same_forecasts_without_pickle(fitted, tmp_path):
    frame = future_rows(hourly())
    fitted.save(tmp_path / "fc")
    assert sorted(p.name for p in (tmp_path / "fc").iterdir()) == ["forecaster.json", "model.keras"]
    saved = json.loads((tmp_path / "fc" / "forecaster.json").read_text())
    assert saved["format"] == "kerasfactory.Forecaster" and saved["hparams"] == {"d_model": 8, "n_layers": 1, "d_ff": 8}
    for loaded in (Forecaster.load(tmp_path / "fc"), Forecaster.load(tmp_path / "fc" / "model.keras", lazy=True)):
        pd.testing.assert_frame_equal(loaded.predict(frame), fitted.predict(frame))
    with pytest.raises(UsageError, match="fitted Forecaster"):
        Forecaster.load(tmp_path / "fc").evaluate()  # the test split is not saved


def test_predict_refuses_what_it_cannot_forecast(fitted):
    with pytest.raises(DataError, match=r"'temp' at the 12 steps after .* 0 such row\(s\)"):
        fitted.predict(hourly())
    gap = future_rows(hourly())
    gap.loc[len(gap) - 5, "temp"] = np.nan
    with pytest.raises(DataError, match=r"'temp' is empty at 2024-03-14 07:00:00"):
        fitted.predict(gap)
    with pytest.raises(DataError, match="seq_len=24"):
        fitted.predict(future_rows(hourly()).iloc[-PRED - 10:])


def test_options_and_hyperparameters_are_checked():
    with pytest.raises(UsageError, match="seq_len"):
        Forecaster(seq_len=0)
    with pytest.raises(UsageError, match="features"):
        Forecaster(features="X")
    with pytest.raises(UsageError, match="learning_rate"):
        Forecaster(learning_rate=-1)
    with pytest.raises(UsageError, match="fitted Forecaster"):
        Forecaster().predict(hourly())
    fc = Forecaster("itransformer", seq_len=SEQ, pred_len=PRED, no_such_hparam=3)
    fc.prepare(hourly(), target="load")
    with pytest.raises(UsageError, match="Cannot build model 'itransformer'.*no_such_hparam"):
        fc.build()
    with pytest.raises(DataError, match="The events table needs an 'event' column"):
        Forecaster(seq_len=SEQ, pred_len=PRED).prepare(hourly(), target="load", events=EVENTS.rename(columns={"event": "name"}))
