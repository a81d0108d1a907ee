"""Many series in a long table: one global model, windows per series, a scaler per series,
future covariates and holidays, through `forecast` then `predict` from the CLI and from Python;
and every bad input of the issue, each exit code 2 with one paragraph and nothing written."""

import contextlib
import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from kerasfactory.data import DataError, WindowDataset, load_panel, prepare
from kerasfactory.forecast.cli import main
from kerasfactory.time_features import holiday_features

SEQ, PRED = 24, 12
SERIES = (("north", 300, 50.0), ("south", 280, 500.0), ("east", 290, 5.0))
TINY = ["--model", "itransformer", "--hparam", "d_model=8", "--hparam", "n_layers=1", "--hparam", "d_ff=8"]


def long_frame(series=SERIES, freq="h", end="2024-11-05 15:00"):
    """Hourly series ending on Melbourne Cup day (an AU-VIC holiday, in every test split), with a
    daily cycle, a temperature effect and a holiday dip; each series on its own level."""
    rng = np.random.default_rng(0)
    frames = []
    for k, (sid, rows, level) in enumerate(series):
        dates = pd.date_range(end=end, periods=rows, freq=freq)
        t = np.arange(rows)
        temp = 15 + 5 * np.sin(2 * np.pi * t / 24 + k) + rng.normal(0, 0.3, rows)
        holiday = holiday_features(dates, "AU-VIC")[:, 0]
        load = level * (1 + 0.2 * np.sin(2 * np.pi * t / 24) + 0.05 * (temp - 15) - 0.3 * holiday)
        frames.append(pd.DataFrame({
            "site": sid, "date": dates.strftime("%Y-%m-%d %H:%M:%S"), "temp": temp,
            "load": load + rng.normal(0, level / 100, rows),
        }))
    return pd.concat(frames, ignore_index=True)


def with_future_rows(frame, steps=PRED, temp=15.0):
    """`frame` plus `steps` rows per series after its end: temp filled, load empty."""
    rows = []
    for sid, group in frame.groupby("site", sort=False):
        last = pd.Timestamp(group.date.iloc[-1])
        for h in range(1, steps + 1):
            rows.append({"site": sid, "date": str(last + pd.Timedelta(hours=h)), "temp": temp, "load": np.nan})
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)


def forecast_argv(csv, out, *extra):
    # One batch per split: fewer shapes to compile, the tests' main cost.
    return ["forecast", "--csv", str(csv), "--id-col", "site", "--target", "load", "--seq-len", str(SEQ),
            "--pred-len", str(PRED), "--epochs", "1", "--batch-size", "1024", "--seed", "5", *TINY,
            "--out", str(out), *extra]


# -- windows and scaling ----------------------------------------------------------------------


def test_windows_never_cross_from_one_series_into_another():
    a = np.arange(10, dtype="float32")[:, None] + 100  # series 0: 100..109
    b = np.arange(8, dtype="float32")[:, None] + 200  # series 1: 200..207
    ds = WindowDataset([a, b], [a / 1000, b / 1000], seq_len=3, pred_len=2, inputs=[0], targets=[0],
                       batch_size=4, future=[0], future_marks=True)
    assert ds.num_windows == (10 - 4) + (8 - 4) and len(ds) == 3
    (x, x_mark, y_mark, x_future), y = ds.arrays()
    assert x.shape == (10, 3, 1) and y_mark.shape == (10, 2, 1) and x_future.shape == (10, 2, 1)
    window = np.concatenate([x[..., 0], y[..., 0]], axis=1)
    assert np.all(window // 100 == window[:, :1] // 100)  # every value of a window from one series
    np.testing.assert_array_equal(np.diff(window, axis=1), 1)  # consecutive rows of that series
    np.testing.assert_array_equal(ds.window_segments, [0] * 6 + [1] * 4)
    np.testing.assert_array_equal(x[6, :, 0], [200, 201, 202])
    np.testing.assert_array_equal(y[5, :, 0], [108, 109])  # the last window of series 0 ends at its end
    np.testing.assert_array_equal(x_future, y)  # the future column is the target's column here
    np.testing.assert_allclose(y_mark[:, :, 0], y[:, :, 0] / 1000)  # the forecast steps' marks
    shuffled = WindowDataset([a, b], [a, b], 3, 2, [0], [0], batch_size=4, shuffle=True, seed=1)
    seen = np.concatenate([shuffled[i][0][0][:, 0, 0] for i in range(len(shuffled))])
    assert sorted(seen) == sorted(x[:, 0, 0])


def test_each_series_is_split_and_scaled_on_its_own_training_rows(tmp_path):
    frame = long_frame()
    panel = load_panel(frame, id_col="site", target="load", future_cols=["temp"])
    assert panel.ids == ["north", "south", "east"] and panel.freq == "h"
    interleaved = load_panel(frame.sort_values(["date", "site"], kind="stable"), id_col="site", target="load")
    for a, b in zip(sorted(interleaved.series, key=lambda s: s.id), sorted(panel.series, key=lambda s: s.id)):
        assert a.dates.equals(b.dates) and np.array_equal(a.values, b.values)
    data = prepare(panel, target="load", seq_len=SEQ, pred_len=PRED, future_cols=["temp"], holidays="AU-VIC",
                   future_marks=True)
    assert data.used == ["temp", "load"] and data.mark_dim == 4 + 3
    for part, (sid, rows, level) in zip(data.parts, SERIES):
        own = frame[frame.site == sid][["temp", "load"]].to_numpy()
        train_stop = int(rows * 0.7)
        assert part.borders["train"] == (0, train_stop) and part.borders["test"][1] == rows
        np.testing.assert_allclose(part.scaler.mean_, own[:train_stop].mean(axis=0))
        np.testing.assert_allclose(part.scaler.scale_, own[:train_stop].std(axis=0))
        np.testing.assert_allclose(part.scaled[:train_stop].mean(axis=0), 0, atol=1e-5)
    counts = {name: ds.num_windows for name, ds in data.datasets.items()}
    assert counts["test"] == sum(int(r * 0.2) - PRED + 1 for _, r, _ in SERIES)
    (x, x_mark, y_mark, x_future), y = data.datasets["test"].arrays()
    assert y_mark.shape[1:] == (PRED, 7) and x_future.shape[1:] == (PRED, 1)
    assert data.step_holidays("test").any()  # Melbourne Cup day lies in every series' test split


def test_a_series_too_short_is_skipped_with_a_warning_that_names_it():
    from kerasfactory import Forecaster

    frame = long_frame((("north", 300, 50.0), ("tiny", 40, 5.0)))
    fc = Forecaster(seq_len=SEQ, pred_len=PRED)
    with pytest.warns(UserWarning, match=r"Skipped 1 series too short .*'tiny' \(40 rows\)"):
        data = fc.prepare(frame, id_col="site", target="load")
    assert [p.id for p in data.parts] == ["north"] and data.skipped == [("tiny", 40)]
    assert fc.settings_["skipped"] == [{"id": "tiny", "rows": 40}]


# -- forecast then predict, from the CLI and from Python ------------------------------------------


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One long-format run with future temperature, AU-VIC holidays and the ablation."""
    folder = tmp_path_factory.mktemp("long")
    csv = folder / "sites.csv"
    long_frame(SERIES + (("tiny", 30, 1.0),)).to_csv(csv, index=False)  # tiny: too short, skipped
    out = folder / "out"
    printed, warned = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(warned):
        code = main(forecast_argv(csv, out, "--future-cols", "temp", "--holidays", "AU-VIC", "--ablation"))
    assert code == 0
    return csv, out, printed.getvalue(), warned.getvalue()


def test_forecast_reports_per_series_overall_holiday_and_ablation_metrics(cli_run):
    csv, out, printed, warned = cli_run
    assert "warning: Skipped 1 series too short" in warned and "'tiny' (30 rows)" in warned
    for name in ("metrics.json", "model.keras", "forecaster.json", "config.json", "forecast.png",
                 "test_forecasts.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no backups of any of the 3 trainings
    assert "3 series (site)" in printed and "Known ahead: temp" in printed and "Ablation" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["series"] == 3 and metrics["skipped_series"] == [{"id": "tiny", "rows": 30}]
    assert set(metrics["per_series"]) == {"north", "south", "east"}
    for per in metrics["per_series"].values():
        assert per["model"]["mse_scaled"] > 0 and per["linear (ridge)"]["mse"] > 0
    assert metrics["holiday_steps"] > 0 and metrics["holiday_days"]["model"]["steps"] == metrics["holiday_steps"]
    ablation = metrics["ablation"]
    assert list(ablation) == ["none", "holidays", "holidays+future"]
    assert ablation["holidays+future"]["mse"] == pytest.approx(metrics["metrics"]["model"]["mse"])
    assert ablation["none"]["holidays"] is None and ablation["holidays"]["future_cols"] == []
    for name in ("holidays", "holidays+future"):
        change = ablation[name]["change_vs_none"]
        assert change["mse"] == pytest.approx(ablation[name]["mse"] / ablation["none"]["mse"] - 1)
        assert ablation[name]["holiday_days"]["mse"] > 0 and change["holiday_days_mse"] is not None
    forecasts = pd.read_csv(out / "test_forecasts.csv")
    assert list(forecasts.columns[:6]) == ["site", "origin", "timestamp", "horizon", "actual", "holiday"]
    assert {"model (none)", "model (holidays)"} <= set(forecasts.columns)
    assert forecasts.groupby("site").timestamp.apply(lambda t: t.is_unique).all()
    assert set(forecasts.site) == {"north", "south", "east"} and forecasts.holiday.sum() > 0


def test_predict_reads_the_future_rows_of_each_series(cli_run, tmp_path):
    _, out, _, _ = cli_run
    frame = with_future_rows(long_frame())
    csv = tmp_path / "with_future.csv"
    frame.to_csv(csv, index=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["predict", "--model", str(out / "model.keras"), "--csv", str(csv),
                     "--out", str(tmp_path / "p.csv")]) == 0
    predicted = pd.read_csv(tmp_path / "p.csv", parse_dates=["date"])
    assert list(predicted.columns) == ["site", "date", "load"] and len(predicted) == 3 * PRED
    for sid, group in predicted.groupby("site", sort=False):
        future = frame[(frame.site == sid) & frame.load.isna()].date
        assert list(group.date) == list(pd.to_datetime(future))
    assert np.isfinite(predicted.load).all()
    # Different temperatures at the forecast steps give different forecasts: they are read.
    warm = tmp_path / "warm.csv"
    with_future_rows(long_frame(), temp=30.0).to_csv(warm, index=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["predict", "--model", str(out), "--csv", str(warm), "--out", str(tmp_path / "w.csv")]) == 0
    assert not np.allclose(pd.read_csv(tmp_path / "w.csv").load, predicted.load)


def test_the_python_api_gives_the_cli_s_model_and_round_trips(cli_run, tmp_path):
    from kerasfactory import Forecaster

    _, out, _, _ = cli_run
    frame = long_frame()
    fc = Forecaster("itransformer", seq_len=SEQ, pred_len=PRED, epochs=1, batch_size=1024, seed=5,
                    d_model=8, n_layers=1, d_ff=8)
    fc.fit(frame, date_col="date", target="load", id_col="site", future_cols=["temp"], holidays="AU-VIC")
    future = with_future_rows(frame)
    mine = fc.predict(future)
    cli = Forecaster.load(out).predict(future)
    assert list(mine.columns) == ["site", "date", "load"]
    np.testing.assert_allclose(mine.load, cli.load, rtol=1e-4)  # the CLI is this class, same seed
    cli_metrics = json.loads((out / "metrics.json").read_text())["metrics"]["model"]
    scores = fc.evaluate()
    assert scores["metrics"]["model"]["mse"] == pytest.approx(cli_metrics["mse"], rel=1e-4)
    assert set(scores["per_series"]) == {"north", "south", "east"}
    fc.save(tmp_path / "saved")
    again = Forecaster.load(tmp_path / "saved").predict(future)
    pd.testing.assert_frame_equal(again, mine)


# -- bad input: exit code 2, one paragraph naming what is wrong, nothing written ----------------


def _duplicate_in_south(frame):
    rows = frame.index[frame.site == "south"]
    frame.loc[rows[50], "date"] = frame.loc[rows[49], "date"]
    return frame


def _east_every_30min(frame):
    east = frame.site == "east"
    frame.loc[east, "date"] = pd.date_range("2024-10-20", periods=int(east.sum()), freq="30min").strftime(
        "%Y-%m-%d %H:%M:%S")
    return frame


def _unsorted_north(frame):
    frame.loc[[10, 11]] = frame.loc[[11, 10]].to_numpy()
    return frame


FORECAST_BAD = {
    "unknown holiday code": (None, ["--holidays", "XX-YY"], ["'XX-YY'", "kerasfactory holidays"]),
    "unknown subdivision": (None, ["--holidays", "AU-ZZZ"], ["'AU-ZZZ'", "'VIC'", "kerasfactory holidays"]),
    "future column absent": (None, ["--future-cols", "rain"], ["future column 'rain'", "'temp'"]),
    "future column not numeric": (lambda f: f.assign(wind="calm"), ["--future-cols", "wind"],
                                  ["'wind'", "not numeric", "'calm'"]),
    "future column is the target": (None, ["--future-cols", "load"], ["'load'", "cannot be a future column"]),
    "future columns with features M": (None, ["--future-cols", "temp", "--features", "M"], ["--features M"]),
    "id column absent": (None, ["--id-col", "station"], ["'station'", "--id-col"]),
    "duplicate timestamp in a series": (_duplicate_in_south, [], ["series 'south'", "duplicated", "2024-10-"]),
    "unsorted series": (_unsorted_north, [], ["series 'north'", "not in increasing order"]),
    "different frequencies": (_east_every_30min, [], ["different frequencies", "every h", "every 30min", "east"]),
    "every series too short": (lambda f: f.groupby("site").head(30), [], ["Every series", "too short", "'north' (30 rows)"]),
    "no target in a series": (lambda f: f.assign(load=np.where(f.site == "east", np.nan, f.load)), [],
                              ["Series 'east'", "no value of the target 'load'"]),
    "ablation without covariates": (None, ["--ablation"], ["--ablation", "--holidays"]),
    "events file absent": (None, ["--events", "nope.csv"], ["'nope.csv'", "does not exist"]),
}


@pytest.mark.parametrize("case", list(FORECAST_BAD))
def test_bad_forecast_input_exits_2_with_one_paragraph(tmp_path, capsys, case, monkeypatch):
    make, extra, expected = FORECAST_BAD[case]
    monkeypatch.chdir(tmp_path)
    csv = tmp_path / "in.csv"
    (make or (lambda f: f))(long_frame()).to_csv(csv, index=False)
    if "--id-col" in extra:
        argv = [a for a in forecast_argv(csv, tmp_path / "out") if a not in ("--id-col", "site")] + extra
    else:
        argv = forecast_argv(csv, tmp_path / "out", *extra)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("kerasfactory forecast: error: ") and err.strip().count("\n") == 0, err
    for text in expected:
        assert text in err, (text, err)
    assert not (tmp_path / "out").exists()


def _nan_temp_at_third_step(frame):
    future = frame.index[frame.load.isna() & (frame.site == "south")]
    frame.loc[future[2], "temp"] = np.nan
    return frame


PREDICT_BAD = {
    "no future rows": (lambda f: f.dropna(subset=["load"]), ["'temp'", "12 steps after", "series 'north'",
                                                             "2024-11-05 16:00:00", "0 such row(s)"]),
    "too few future rows": (lambda f: f.drop(index=f.index[f.load.isna()][-1:]),
                            ["series 'east'", "11 such row(s)", "2024-11-06 03:00:00"]),
    "future column empty at a forecast step": (_nan_temp_at_third_step,
                                               ["'temp'", "2024-11-05 18:00:00", "series 'south'"]),
    "future column absent": (lambda f: f.drop(columns="temp"), ["'temp'", "not in"]),
    "unknown series": (lambda f: f.assign(site=f.site.replace("east", "west")),
                       ["series 'west'", "not in the data given to fit"]),
    "series skipped in fit": (lambda f: pd.concat([f, with_future_rows(long_frame((("tiny", 40, 1.0),)))]),
                              ["series 'tiny'", "skipped in fit, too short"]),
}


@pytest.mark.parametrize("case", list(PREDICT_BAD))
def test_bad_predict_input_exits_2_with_one_paragraph(cli_run, tmp_path, capsys, case):
    _, out, _, _ = cli_run
    make, expected = PREDICT_BAD[case]
    csv = tmp_path / "in.csv"
    make(with_future_rows(long_frame())).to_csv(csv, index=False)
    code = main(["predict", "--model", str(out / "model.keras"), "--csv", str(csv), "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("kerasfactory predict: error: ") and err.strip().count("\n") == 0, err
    for text in expected:
        assert text in err, (text, err)
    assert not (tmp_path / "p.csv").exists()


def test_the_python_api_raises_the_same_errors():
    from kerasfactory import Forecaster

    with pytest.raises(DataError, match="different frequencies"):
        Forecaster(seq_len=SEQ, pred_len=PRED).prepare(_east_every_30min(long_frame()), id_col="site", target="load")
    with pytest.raises(DataError, match="Unknown holiday code --holidays 'XX'"):
        Forecaster(seq_len=SEQ, pred_len=PRED).prepare(long_frame(), id_col="site", target="load", holidays="XX")


def test_holidays_command_lists_the_codes(capsys):
    assert main(["holidays", "au"]) == 0
    assert "AU-VIC" in capsys.readouterr().out
    assert main(["holidays"]) == 0
    listing = capsys.readouterr().out
    assert "  AU  (" in listing and "  FR" in listing
    assert main(["holidays", "XX"]) == 2 and "'XX'" in capsys.readouterr().err
