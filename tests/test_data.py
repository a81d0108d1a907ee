"""kerasfactory.data: CSV checks, chronological splits, train-only scaling, windows."""

import numpy as np
import pandas as pd
import pytest

from kerasfactory.data import DataError, WindowDataset, load_series, prepare, split_borders, vic_elec


def write_csv(tmp_path, frame, name="series.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def hourly(rows=200, start="2021-01-01"):
    t = np.arange(rows)
    return pd.DataFrame({
        "date": pd.date_range(start, periods=rows, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
        "load": 10 + np.sin(2 * np.pi * t / 24),
        "temp": 20 + 0.01 * t,
    })


def test_windows_match_a_hand_built_example():
    values = np.arange(20, dtype="float32").reshape(10, 2)  # row r = [2r, 2r + 1]
    marks = np.arange(10, dtype="float32")[:, None] * 100
    ds = WindowDataset(values, marks, seq_len=3, pred_len=2, inputs=[0, 1], targets=[1], batch_size=4)
    assert ds.num_windows == 6 and len(ds) == 2
    (x, x_mark), y = ds[0]
    assert x.shape == (4, 3, 2) and x_mark.shape == (4, 3, 1) and y.shape == (4, 2, 1)
    np.testing.assert_array_equal(x[0], [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(x_mark[0, :, 0], [0, 100, 200])
    np.testing.assert_array_equal(y[0, :, 0], [7, 9])
    np.testing.assert_array_equal(x[3], [[6, 7], [8, 9], [10, 11]])
    np.testing.assert_array_equal(y[3, :, 0], [13, 15])
    (x, _), y = ds[1]  # the last, short batch holds windows 4 and 5
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(x[-1, :, 0], [10, 12, 14])
    np.testing.assert_array_equal(y[-1, :, 0], [17, 19])
    with pytest.raises(IndexError):
        ds[2]


def test_shuffled_windows_are_a_permutation_fixed_by_seed_and_epoch():
    values = np.arange(40, dtype="float32")[:, None]
    make = lambda: WindowDataset(values, values, 4, 2, [0], [0], batch_size=5, shuffle=True, seed=7)
    first = lambda ds: np.concatenate([ds[i][0][0][:, 0, 0] for i in range(len(ds))])
    a, b = make(), make()
    np.testing.assert_array_equal(first(a), first(b))
    assert sorted(first(a)) == list(range(a.num_windows))
    a.set_epoch(1)
    assert not np.array_equal(first(a), first(b))
    b.set_epoch(1)
    np.testing.assert_array_equal(first(a), first(b))


def test_fraction_borders_look_back_seq_len_into_the_previous_split():
    assert split_borders(100, 10, 5) == {"train": (0, 70), "val": (60, 80), "test": (70, 100)}


def test_ett_borders_follow_the_12_4_4_month_protocol():
    month = 30 * 24
    borders = split_borders(17420, 96, 96, "ett", "h")
    assert borders == {
        "train": (0, 12 * month),
        "val": (12 * month - 96, 16 * month),
        "test": (16 * month - 96, 20 * month),
    }
    assert split_borders(4 * 17420, 96, 96, "ett", "15min")["train"] == (0, 4 * 12 * month)


def test_scaler_is_fitted_on_training_rows_only(tmp_path):
    frame = hourly(300)
    frame.loc[250:, "load"] = 1e6  # test rows far away: must not move the scaler
    data = prepare(load_series(write_csv(tmp_path, frame)), target="load", features="MS",
                   seq_len=12, pred_len=6)
    train = frame[["load", "temp"]].to_numpy()[: data.borders["train"][1]]
    np.testing.assert_allclose(data.scaler.mean_, train.mean(axis=0))
    np.testing.assert_allclose(data.scaler.scale_, train.std(axis=0))
    scaled = data.datasets["train"].values
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-4)


@pytest.mark.parametrize("features, n_in, n_out, target_index", [("M", 2, 2, None), ("S", 1, 1, None), ("MS", 2, 1, 0)])
def test_feature_modes_choose_inputs_and_outputs(tmp_path, features, n_in, n_out, target_index):
    data = prepare(load_series(write_csv(tmp_path, hourly())), target="load", features=features,
                   seq_len=12, pred_len=6, batch_size=8)
    (x, x_mark), y = data.datasets["val"][0]
    assert x.shape == (8, 12, n_in) and y.shape == (8, 6, n_out)
    assert x_mark.shape == (8, 12, data.mark_dim) and data.mark_dim == 4  # hourly timeF
    assert data.target_index == target_index
    assert data.outputs[data.target_output] == "load"


def test_vic_elec_loads_from_the_installed_package():
    spec = vic_elec()
    series = load_series(spec.path, date_col=spec.date_col, columns=spec.columns, tz=spec.tz)
    assert series.freq == "30min" and len(series.dates) == 52608
    assert series.columns == ["Demand", "Temperature"] and np.isfinite(series.values).all()
    assert str(series.dates[0]) == "2011-12-31 23:00:00"  # 2012-01-01 00:00 AEDT is 23:00 AEST


def bad(tmp_path, frame, **kwargs):
    path = write_csv(tmp_path, frame)
    with pytest.raises(DataError) as info:
        load_series(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_series(tmp_path / "nope.csv")


def test_missing_columns_list_the_columns_that_exist(tmp_path):
    message = bad(tmp_path, hourly(), date_col="when")
    assert "'when'" in message and "'date', 'load', 'temp'" in message
    message = bad(tmp_path, hourly(), target="OT")
    assert "'OT'" in message and "'date', 'load', 'temp'" in message


def test_non_numeric_columns_are_refused(tmp_path):
    frame = hourly().assign(site=["a"] * 200)
    message = bad(tmp_path, frame)
    assert "'site'" in message and "not numeric" in message and "--columns" in message
    assert load_series(write_csv(tmp_path, frame), columns=["load"]).columns == ["load"]


def test_nans_are_refused_with_count_and_place_unless_filled(tmp_path):
    frame = hourly()
    frame.loc[[5, 6], "load"] = np.nan
    frame.loc[50, "temp"] = np.nan
    message = bad(tmp_path, frame)
    assert "3 missing" in message and "CSV line 7" in message and "--fill" in message
    path = write_csv(tmp_path, frame)
    filled = load_series(path, fill="ffill").values
    assert filled[5, 0] == filled[4, 0] == filled[6, 0]
    interpolated = load_series(path, fill="interpolate").values
    np.testing.assert_allclose(interpolated[5, 0], frame.load[4] + (frame.load[7] - frame.load[4]) / 3)


def test_duplicate_and_unsorted_timestamps_are_refused(tmp_path):
    frame = hourly()
    frame.loc[10, "date"] = frame.loc[9, "date"]
    assert "duplicated" in bad(tmp_path, frame)
    frame = hourly()
    frame.loc[[10, 11]] = frame.loc[[11, 10]].to_numpy()
    assert "not in increasing order" in bad(tmp_path, frame)


def test_irregular_spacing_is_refused(tmp_path):
    frame = hourly().drop(index=[40, 41, 90])
    message = bad(tmp_path, frame)
    assert "not evenly spaced" in message and "2 of" in message and "CSV line 42" in message
    assert "do not follow the frequency" in bad(tmp_path, hourly(), freq="30min")


def test_too_short_series_is_refused(tmp_path):
    series = load_series(write_csv(tmp_path, hourly(60)))
    with pytest.raises(DataError, match="too short") as info:
        prepare(series, target="load", seq_len=48, pred_len=12)
    assert "rows" in str(info.value) and "\n" not in str(info.value)


def test_rows_after_the_last_observed_target_are_future_rows(tmp_path):
    frame = hourly(100)
    frame.loc[95:, "load"] = np.nan  # the last 5 rows: target empty, temp known ahead
    series = load_series(write_csv(tmp_path, frame), target="load")
    assert len(series.dates) == 95 and np.isfinite(series.values).all()
    assert list(series.future_dates) == list(pd.to_datetime(frame.date[95:]))
    np.testing.assert_allclose(series.future_values[:, series.columns.index("temp")], frame.temp[95:])
    frame.loc[50, "load"] = np.nan  # an empty target before the last observed one is a missing value
    assert "1 missing value(s)" in bad(tmp_path, frame, target="load")


def test_a_dataframe_is_read_like_a_csv_with_rows_named_by_their_index():
    from kerasfactory.data import load_panel

    frame = hourly(50)
    frame["date"] = pd.to_datetime(frame["date"])
    panel = load_panel(frame, target="load")
    assert panel.freq == "h" and panel.series[0].values.shape == (50, 2) and panel.id_col is None
    frame.loc[7, "temp"] = np.nan
    with pytest.raises(DataError, match=r"1 in 'temp' \(first at row 7, 2021-01-01 07:00:00\)"):
        load_panel(frame)
