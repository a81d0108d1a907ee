"""Calendar covariates: minute buckets per step, seconds, holidays, events, and the layers that read them.

The `holidays` package is in the `test` extra, so the holiday tests run (and fail loudly without it).
"""

import datetime
import json
import sys
import zipfile

import keras
import numpy as np
import pytest

from kerasfactory import time_features as tf_
from kerasfactory.freq import mark_fields, minute_step
from kerasfactory.interop import to_torch_state_dict
from kerasfactory.layers import DataEmbedding, DataEmbeddingWithoutPosition, TemporalEmbedding, TimeFeatureEmbedding

pd = pytest.importorskip("pandas", reason="time_features needs pandas (kerasfactory[timefeatures])")

STANDARD = (("month", 13), ("day", 32), ("weekday", 7), ("hour", 24))
EXTRA = [("holiday", 2), ("days_to_holiday", 31), ("event_sale", 2)]


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def predict(layer, x):
    inputs = keras.Input(shape=x.shape[1:], dtype=str(x.dtype))
    return keras.Model(inputs, layer(inputs)).predict(x, verbose=0)


def covariate_marks(freq="h", batch=2, time=6, seed=0):
    """Valid marks of `freq` followed by one column per field of `EXTRA`."""
    rng = np.random.default_rng(seed)
    fields = mark_fields(freq)
    standard = [rng.integers(1 if name in ("month", "day") else 0, size, (batch, time)) for name, size in fields]
    extra = [rng.integers(0, size, (batch, time)) for _, size in EXTRA]
    return np.stack(standard + extra, axis=-1).astype("int32")


# -- minute buckets and seconds ---------------------------------------------------------------


@pytest.mark.parametrize(
    "freq, step",
    [
        ("5min", 5), ("15min", 15), ("30min", 30), ("min", 1), ("T", 1), ("1min", 1), ("15T", 15),
        ("t", None), ("h", None), ("2h", None), ("D", None), ("7min", None), ("1h30min", None),
        ("s", 1), ("10s", 1),
    ],
)
def test_minute_step_is_the_data_step_in_minutes_when_it_divides_an_hour(freq, step):
    assert minute_step(freq) == step


@pytest.mark.parametrize(
    "freq, extra",
    [
        ("h", []), ("D", []), ("ME", []), ("t", [("minute", 4)]), ("15min", [("minute", 4)]),
        ("5min", [("minute", 12)]), ("min", [("minute", 60)]), ("30min", [("minute", 2)]),
        ("7min", [("minute", 4)]), ("s", [("minute", 60), ("second", 60)]),
    ],
)
def test_mark_fields_add_minute_buckets_per_step_and_seconds_for_secondly_data(freq, extra):
    assert mark_fields(freq) == [*STANDARD, *extra]


def test_five_minute_data_gets_twelve_minute_buckets():
    dates = pd.date_range("2024-03-01", periods=24, freq="5min")
    got = tf_.marks(dates, "5min")
    assert got.shape == (24, 5) and got.dtype == np.int64
    np.testing.assert_array_equal(got[:12, 4], np.arange(12))
    np.testing.assert_array_equal(tf_.marks(dates)[:12, 4], np.arange(12) * 5 // 15)  # the reference buckets
    np.testing.assert_array_equal(tf_.marks(dates, "t"), tf_.marks(dates))


@pytest.mark.parametrize("freq, divisor", [("min", 1), ("15min", 15), ("30min", 30), ("7min", 15)])
def test_the_minute_column_is_minute_floor_divided_by_the_step(freq, divisor):
    dates = pd.DatetimeIndex(["2024-03-01 10:00", "2024-03-01 10:35", "2024-03-01 10:59"])
    np.testing.assert_array_equal(tf_.marks(dates, freq)[:, 4], [0, 35 // divisor, 59 // divisor])


@pytest.mark.parametrize("freq", ["h", "D", "W", "ME"])
def test_hourly_and_coarser_marks_are_the_four_standard_fields(freq):
    dates = pd.DatetimeIndex(["2024-03-01 10:35"])
    np.testing.assert_array_equal(tf_.marks(dates, freq), tf_.marks(dates)[:, :4])


def test_secondly_data_gets_minute_and_second_columns():
    dates = ["2024-03-01 10:07:05", "2024-03-01 23:59:59"]
    np.testing.assert_array_equal(tf_.marks(dates, "10s"), [[3, 1, 4, 10, 7, 5], [3, 1, 4, 23, 59, 59]])


@pytest.mark.parametrize("freq", ["h", "t", "5min", "min", "30min", "s", "D"])
def test_marks_of_every_freq_fit_the_tables_of_that_freq(freq):
    dates = pd.date_range("2023-12-31 22:00", periods=400, freq="37s")
    x = tf_.marks(dates, freq)
    assert x.shape[1] == len(mark_fields(freq))
    layer = TemporalEmbedding(4, freq=freq, out_of_range="error")  # raises on any mark outside its table
    assert np.isfinite(numpy(layer(x[None]))).all()


def test_marks_reject_a_bad_freq():
    with pytest.raises(ValueError, match="`freq` must be .*got 'ms'"):
        tf_.marks(["2024-01-01"], "ms")


# -- holidays ---------------------------------------------------------------------------------


def test_holidays_on_known_dates_of_a_subdivision():
    dates = ["2024-01-01", "2024-11-04", "2024-11-05 09:30", "2024-11-05 23:59", "2024-11-06", "2024-12-25"]
    got = tf_.holiday_features(dates, "AU-VIC")
    assert got.dtype == np.float32 and got.shape == (6, 3)
    np.testing.assert_array_equal(got[:, 0], [1, 0, 1, 1, 0, 1])  # New Year, Melbourne Cup, Christmas
    np.testing.assert_array_equal(got[1], [0, 1, 30])  # the day before the Cup; AFL Grand Final eve was 38 days ago
    np.testing.assert_array_equal(got[4], [0, 30, 1])
    assert tf_.holiday_features(["2024-11-05"], "AU")[0, 0] == 0  # the Cup is Victorian only
    assert tf_.holiday_features(["2024-11-05"], "FR")[0, 0] == 0
    np.testing.assert_array_equal(tf_.holiday_features(["2024-07-14", "2024-05-01"], "FR")[:, 0], [1, 1])


def test_distances_are_exact_below_the_cap_and_capped_above_it():
    dates = ["2024-11-04", "2024-11-06"]
    np.testing.assert_array_equal(tf_.holiday_features(dates, "AU-VIC", cap=60), [[0, 1, 38], [0, 49, 1]])
    np.testing.assert_array_equal(tf_.holiday_features(dates, "AU-VIC", cap=5), [[0, 1, 5], [0, 5, 1]])


def test_distances_at_the_edges_of_the_dates_reach_into_the_neighbouring_years():
    got = tf_.holiday_features(["2023-12-31", "2024-12-31"], "au-vic")  # case-insensitive
    np.testing.assert_array_equal(got, [[0, 1, 5], [0, 1, 5]])  # Boxing Day behind, New Year ahead


def test_holidays_follow_the_local_calendar_date_of_timezone_aware_timestamps():
    utc = pd.DatetimeIndex(["2024-11-04 13:30", "2024-11-05 13:30"], tz="UTC")
    melbourne = utc.tz_convert("Australia/Melbourne")  # 2024-11-05 00:30 and 2024-11-06 00:30 there
    np.testing.assert_array_equal(tf_.holiday_features(melbourne, "AU-VIC")[:, 0], [1, 0])
    np.testing.assert_array_equal(tf_.holiday_features(utc, "AU-VIC")[:, 0], [0, 1])


@pytest.mark.parametrize(
    "code, message",
    [
        ("XX", r"`code` must be a country code .*holidays.list_supported_countries\(\)\), got 'XX'"),
        ("AU-XX", r"`code` subdivision must be one of AU's \('ACT', .*'VIC'.*\), got 'AU-XX'"),
        ("AU-", r"`code` subdivision must be one of AU's .*got 'AU-'"),
        ("", r"`code` must be a country code .*got ''"),
        (None, r"`code` must be a country code .*got None"),
        (36, r"`code` must be a country code .*got 36"),
    ],
)
def test_unknown_holiday_codes_raise_saying_how_to_list_valid_ones(code, message):
    with pytest.raises(ValueError, match=message):
        tf_.holiday_features(["2024-01-01"], code)


@pytest.mark.parametrize("cap", [0, -3, 2.5, True, "30", None])
def test_cap_must_be_a_positive_int(cap):
    with pytest.raises(ValueError, match=rf"`cap` must be a positive integer, got {cap!r}"):
        tf_.holiday_features(["2024-01-01"], "FR", cap=cap)


def test_without_the_holidays_package_the_error_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(ImportError, match=r"pip install kerasfactory\[holidays\]"):
        tf_.holiday_features(["2024-01-01"], "FR")
    tf_.calendar(["2024-01-01"], "h")  # without holidays, nothing needs the package


def test_holiday_module_is_imported_lazily():
    source = open(tf_.__file__).read()
    assert "\nimport holidays" not in source and "\nfrom holidays" not in source


# -- events -----------------------------------------------------------------------------------


def test_a_date_event_covers_its_whole_local_day_only():
    dates = pd.date_range("2024-11-28 22:00", periods=6, freq="h")  # 28th 22:00 ... 29th 03:00
    table = pd.DataFrame({"event": ["black friday"], "date": ["2024-11-29"]})
    got, names = tf_.event_features(dates, table)
    assert names == ["black friday"] and got.dtype == np.float32
    np.testing.assert_array_equal(got[:, 0], [0, 0, 1, 1, 1, 1])
    daily, _ = tf_.event_features(pd.date_range("2024-11-28", periods=3, freq="D"), table)
    np.testing.assert_array_equal(daily[:, 0], [0, 1, 0])


def test_a_span_includes_its_start_excludes_its_end_and_a_date_only_end_means_through_that_day():
    dates = pd.date_range("2024-06-01 08:00", periods=6, freq="h")  # 08:00 ... 13:00
    table = pd.DataFrame(
        {
            "event": ["match", "festival"],
            "start": ["2024-06-01 09:00", "2024-05-30"],
            "end": ["2024-06-01 12:00", "2024-06-01"],
        }
    )
    got, names = tf_.event_features(dates, table)
    assert names == ["festival", "match"]  # sorted
    np.testing.assert_array_equal(got[:, 1], [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(got[:, 0], [1] * 6)
    after, _ = tf_.event_features(["2024-06-02 00:00"], table)
    np.testing.assert_array_equal(after, [[0, 0]])
    # A datetime.date end is a whole day too; a Timestamp (or a string with a time) ends at that instant.
    ends = pd.DataFrame(
        {
            "event": ["date", "stamp", "text"],
            "start": ["2024-06-01"] * 3,
            "end": [datetime.date(2024, 6, 1), pd.Timestamp("2024-06-02"), "2024-06-02 00:00"],
        }
    )
    got, _ = tf_.event_features(["2024-06-01 23:00", "2024-06-02 00:00"], ends)
    np.testing.assert_array_equal(got, [[1, 1, 1], [0, 0, 0]])


def test_one_indicator_per_name_from_repeated_overlapping_and_mixed_rows_of_a_csv(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "event,date,start,end\n"
        "sale,2024-01-02,,\n"
        "sale,2024-01-04,,\n"
        "sale,,2024-01-03 12:00,2024-01-04 12:00\n"
        "1,2024-01-03,,\n"
    )
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    got, names = tf_.event_features(dates, path)
    assert names == ["1", "sale"]
    np.testing.assert_array_equal(got, [[0, 0], [0, 1], [1, 0], [0, 1], [0, 0]])
    again, _ = tf_.event_features(dates, str(path))
    np.testing.assert_array_equal(again, got)


def test_events_are_read_in_the_local_time_of_timezone_aware_data():
    utc = pd.DatetimeIndex(["2024-11-04 13:30", "2024-11-05 13:30"], tz="UTC")
    table = pd.DataFrame({"event": ["cup"], "date": ["2024-11-05"]})
    np.testing.assert_array_equal(tf_.event_features(utc.tz_convert("Australia/Melbourne"), table)[0][:, 0], [1, 0])
    np.testing.assert_array_equal(tf_.event_features(utc, table)[0][:, 0], [0, 1])
    # An event given as instants is converted to the data's time zone.
    instants = pd.DataFrame({"event": ["cup"], "start": ["2024-11-04T13:00Z"], "end": ["2024-11-04T14:00Z"]})
    np.testing.assert_array_equal(tf_.event_features(utc.tz_convert("Australia/Melbourne"), instants)[0][:, 0], [1, 0])


BAD_TABLES = [
    ({"name": ["x"], "date": ["2024-01-01"]}, r"must have an 'event' column .*got columns \['name', 'date'\]"),
    ({"event": ["x"], "day": ["2024-01-01"]}, r"either a 'date' column or 'start' and 'end' columns"),
    ({"event": ["x"], "start": ["2024-01-01"]}, r"'start' and 'end' columns, got columns \['event', 'start'\]"),
    (
        {"event": ["x", "y"], "date": ["2024-01-01", "2024-13-45"]},
        r"column 'date' must hold dates or timestamps, got '2024-13-45' at row 1",
    ),
    ({"event": ["x"], "date": [20240101]}, r"column 'date' must hold dates or timestamps, got 20240101 at row 0"),
    ({"event": ["x"], "date": [None]}, r"column 'date' must hold a date or timestamp, got nothing at row 0"),
    ({"event": ["x", None], "date": ["2024-01-01"] * 2}, r"column 'event' must name every event, got nothing at row 1"),
    ({"event": ["x", " "], "date": ["2024-01-01"] * 2}, r"column 'event' must name every event, got ' ' at row 1"),
    (
        {"event": ["x"], "start": ["2024-01-02 10:00"], "end": ["2024-01-02 09:00"]},
        r"'end' must be after 'start', got start '2024-01-02 10:00', end '2024-01-02 09:00' at row 0",
    ),
    ({"event": ["x"], "start": ["2024-01-02"], "end": ["2024-01-01"]}, r"'end' must be after 'start'.*at row 0"),
    ({"event": ["x"], "start": ["2024-01-02"], "end": [None]}, r"column 'end' must hold a date .*at row 0"),
    (
        {"event": ["x"], "date": ["2024-01-01"], "start": ["2024-01-01"], "end": ["2024-01-02"]},
        r"row 0 must give either 'date' or 'start' and 'end', got both",
    ),
    ({"event": [], "date": []}, r"`events` must hold at least one event, got an empty table"),
]


@pytest.mark.parametrize("table, message", BAD_TABLES)
def test_bad_event_tables_raise_naming_the_column_and_row(table, message):
    with pytest.raises(ValueError, match=message):
        tf_.event_features(["2024-01-01"], pd.DataFrame(table))


def test_events_must_be_a_table_or_a_path():
    with pytest.raises(TypeError, match="`events` must be a pandas DataFrame or the path of a CSV file, got list"):
        tf_.event_features(["2024-01-01"], [("x", "2024-01-01")])


# -- calendar: both encodings -----------------------------------------------------------------

DATES = pd.date_range("2024-11-03", periods=96, freq="h")
EVENTS = pd.DataFrame({"event": ["Black Friday", "cup"], "date": ["2024-11-29", "2024-11-05"]})


def test_calendar_timef_appends_scaled_holiday_and_event_columns():
    x, spec = tf_.calendar(DATES, "h", holidays="AU-VIC", events=EVENTS, cap=10)
    holidays = tf_.holiday_features(DATES, "AU-VIC", cap=10)
    events, _ = tf_.event_features(DATES, EVENTS)
    assert x.dtype == np.float32 and x.shape == (96, 9)
    np.testing.assert_allclose(x[:, :4], tf_.time_features(DATES, "h"))
    np.testing.assert_allclose(x[:, 4:7], holidays / [1, 10, 10] - 0.5, atol=1e-7)
    np.testing.assert_allclose(x[:, 7:], events - 0.5)
    assert x.min() >= -0.5 and x.max() <= 0.5
    assert spec["extra_columns"] == 5 and spec["encoding"] == "timeF"
    assert spec["names"] == [
        "hour", "weekday", "day", "yearday", "holiday", "days_to_holiday", "days_since_holiday",
        "event_Black_Friday", "event_cup",
    ]
    out = TimeFeatureEmbedding(8, "h", extra_columns=spec["extra_columns"])(x[None])
    assert tuple(out.shape) == (1, 96, 8)


def test_calendar_marks_appends_integer_fields_that_temporal_embedding_reads():
    x, spec = tf_.calendar(DATES, "h", holidays="AU-VIC", events=EVENTS, encoding="marks")
    assert x.dtype == np.int64 and x.shape == (96, 9)
    np.testing.assert_array_equal(x[:, :4], tf_.marks(DATES, "h"))
    np.testing.assert_array_equal(x[:, 4:7], tf_.holiday_features(DATES, "AU-VIC"))
    assert spec["extra_fields"] == [
        ("holiday", 2), ("days_to_holiday", 31), ("days_since_holiday", 31), ("event_Black_Friday", 2), ("event_cup", 2),
    ]
    assert spec["names"][:5] == ["month", "day", "weekday", "hour", "holiday"] and len(spec["names"]) == 9
    layer = TemporalEmbedding(8, freq="h", extra_fields=spec["extra_fields"], out_of_range="error")
    assert np.isfinite(numpy(layer(x[None]))).all()
    assert layer.event_Black_Friday_embed.c_in == 2


def test_calendar_for_secondly_data_puts_extra_fields_after_the_second_column():
    dates = pd.date_range("2024-11-05 23:59:50", periods=20, freq="s")
    x, spec = tf_.calendar(dates, "s", holidays="AU-VIC", encoding="marks")
    assert x.shape == (20, 9) and spec["names"][5] == "second"
    np.testing.assert_array_equal(x[:, 6], [1] * 10 + [0] * 10)  # the Cup ends at midnight
    layer = TemporalEmbedding(8, "learned", "s", extra_fields=spec["extra_fields"], out_of_range="error")
    assert layer.input_width == 9
    layer(x[None])


def test_calendar_without_covariates_is_the_plain_encoding():
    x, spec = tf_.calendar(DATES, "30min")
    np.testing.assert_array_equal(x, tf_.time_features(DATES, "30min"))
    assert spec["extra_columns"] == 0
    x, spec = tf_.calendar(DATES, "30min", encoding="marks")
    np.testing.assert_array_equal(x, tf_.marks(DATES, "30min"))
    assert spec["extra_fields"] == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(encoding="onehot"), "`encoding` must be one of 'timeF', 'marks', got 'onehot'"),
        (dict(cap=0), "`cap` must be a positive integer, got 0"),
        (dict(holidays="XX"), r"`holidays` must be a country code .*got 'XX'"),
        (dict(events=pd.DataFrame({"event": ["a b", "a_b"], "date": ["2024-11-03"] * 2})),
         r"`events` names must stay distinct as field names, got 'a b' and 'a_b' \(both 'event_a_b'\)"),
    ],
)
def test_calendar_rejects_bad_arguments_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tf_.calendar(DATES, "h", **kwargs)


# -- TemporalEmbedding with extra fields ------------------------------------------------------


@pytest.mark.parametrize("embed_type", ["fixed", "learned"])
@pytest.mark.parametrize("freq", ["h", "5min", "s"])
def test_output_is_the_sum_of_the_sub_layer_lookups_of_standard_then_extra_columns(embed_type, freq):
    layer = TemporalEmbedding(8, embed_type, freq, extra_fields=EXTRA)
    x = covariate_marks(freq)
    names = [name for name, _ in mark_fields(freq) + EXTRA]
    total = sum(numpy(getattr(layer, f"{n}_embed")(x[..., c])) for c, n in enumerate(names))
    np.testing.assert_allclose(numpy(layer(x)), total, atol=1e-5)
    np.testing.assert_allclose(predict(layer, x), total, atol=1e-5)
    y = np.concatenate([x, np.full(x.shape[:2] + (1,), 99, x.dtype)], -1)  # a column past the fields never matters
    np.testing.assert_allclose(numpy(layer(y)), total, atol=1e-5)
    assert len(layer.weights) == (len(names) if embed_type == "learned" else 0)


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_out_of_range_extra_fields_follow_the_policy(mode):
    layer = TemporalEmbedding(8, extra_fields=EXTRA, out_of_range=mode)
    x = covariate_marks()
    y = x.copy()
    y[..., 4] = 3  # holiday table has 2 rows
    expected = x.copy()
    expected[..., 4] = 1  # 3 % 2 and clip(3, 0, 1) are both 1
    np.testing.assert_allclose(numpy(layer(y)), numpy(layer(expected)), atol=1e-6)


def test_error_policy_names_the_extra_field_and_its_column():
    x = covariate_marks()
    x[0, 2, 5] = 31
    with pytest.raises(ValueError, match=r"field 'days_to_holiday' \(column 5\) must be in \[0, 30\], got 31 at index \(0, 2\)"):
        TemporalEmbedding(8, extra_fields=EXTRA, out_of_range="error")(x)


def test_config_round_trips_through_json_with_the_same_output():
    layer = TemporalEmbedding(8, "learned", "5min", extra_fields=EXTRA)
    x = covariate_marks("5min")
    expected = numpy(layer(x))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["extra_fields"] == [list(f) for f in EXTRA]
    assert config["fields"] == [[n, s] for n, s in mark_fields("5min")]
    restored = TemporalEmbedding.from_config(config)
    restored.build(x.shape)
    restored.set_weights(layer.get_weights())
    np.testing.assert_allclose(numpy(restored(x)), expected, atol=1e-6)


def test_save_and_load_keep_the_extra_fields_and_their_weights(tmp_path):
    layer = TemporalEmbedding(8, "learned", "h", extra_fields=EXTRA)
    x = covariate_marks()
    inputs = keras.Input((None, x.shape[-1]), dtype="int32")
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), atol=1e-6)
    assert loaded.layers[-1].extra_fields == tuple(EXTRA)


def strip_keys(path, keys):
    """Rewrites a `.keras` file's config without `keys`, as the previous release saved it."""

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in keys}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    with zipfile.ZipFile(path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    files["config.json"] = json.dumps(strip(json.loads(files["config.json"]))).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)


@pytest.mark.parametrize(
    "freq, minute",
    [("5min", 4), ("30min", 4), ("min", 4), ("t", 4), ("s", None), ("h", None)],
)
def test_configs_saved_before_the_new_keys_rebuild_the_previous_tables(freq, minute):
    old = {k: v for k, v in TemporalEmbedding(8, "learned", freq).get_config().items() if k not in ("fields", "extra_fields")}
    layer = TemporalEmbedding.from_config(old)
    assert (layer.minute_embed.input_dim if hasattr(layer, "minute_embed") else None) == minute
    assert not hasattr(layer, "second_embed") and layer.extra_fields == ()
    data = DataEmbedding(3, 8, "learned", freq).get_config()
    data = DataEmbedding.from_config({k: v for k, v in data.items() if k not in ("fields", "extra_fields", "extra_columns")})
    assert (getattr(data.temporal_embedding, "minute_embed", None) is None) == (minute is None)


@pytest.mark.parametrize("cls", [TemporalEmbedding, DataEmbedding])
def test_a_file_saved_by_the_previous_release_loads_its_learned_minute_table(tmp_path, cls):
    # The previous release built a 4-row minute table for '5min' (now 12): the file keeps its tables.
    legacy = [*STANDARD, ("minute", 4)]
    x = covariate_marks("t")[..., :5]
    if cls is TemporalEmbedding:
        layer = TemporalEmbedding(8, "learned", "5min", fields=legacy)
        inputs = [keras.Input((None, 5), dtype="int32")]
        args = (x,)
    else:
        layer = DataEmbedding(3, 8, "learned", "5min", dropout=0.0, fields=legacy)
        inputs = [keras.Input((6, 3)), keras.Input((6, 5), dtype="int32")]
        args = (np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32"), x)
    model = keras.Model(inputs, layer(*inputs))
    expected = numpy(model(list(args) if len(args) > 1 else args[0]))
    model.save(tmp_path / "old.keras")
    strip_keys(tmp_path / "old.keras", ("fields", "extra_fields", "extra_columns"))
    loaded = keras.saving.load_model(tmp_path / "old.keras")
    np.testing.assert_allclose(numpy(loaded(list(args) if len(args) > 1 else args[0])), expected, atol=1e-5)


@pytest.mark.parametrize(
    "extra_fields, message",
    [
        ("holiday", r"`extra_fields` must be a list of \(name, table size\) pairs, got 'holiday'"),
        ({"holiday": 2}, r"`extra_fields` must be a list of \(name, table size\) pairs, got \{'holiday': 2\}"),
        ([("holiday",)], r"`extra_fields` must be a list of \(name, table size\) pairs, got \('holiday',\) at position 0"),
        ([(2, "holiday")], r"pairs, got \(2, 'holiday'\) at position 0"),
        ([("holiday", 0)], r"`extra_fields` table size of 'holiday' must be a positive integer, got 0"),
        ([("holiday", 2.5)], r"table size of 'holiday' must be a positive integer, got 2.5"),
        ([("holiday", True)], r"table size of 'holiday' must be a positive integer, got True"),
        ([("black friday", 2)], r"`extra_fields` names must be Python identifiers, got 'black friday'"),
        ([("hour", 24)], r"`extra_fields` names must not be a standard mark .*got 'hour'"),
        ([("second", 60)], r"must not be a standard mark .*got 'second'"),
        ([("x", 2), ("x", 3)], r"`extra_fields` names must be distinct, got 'x' 2 times"),
    ],
)
def test_bad_extra_fields_raise_naming_the_argument(extra_fields, message):
    with pytest.raises(ValueError, match=message):
        TemporalEmbedding(8, extra_fields=extra_fields)
    with pytest.raises(ValueError, match=message):
        DataEmbedding(3, 8, extra_fields=extra_fields)


def test_bad_standard_fields_raise_naming_the_argument():
    with pytest.raises(ValueError, match=r"`fields` must name the standard marks .*got \['month', 'day', 'hour', 'weekday'\]"):
        TemporalEmbedding(8, fields=[("month", 13), ("day", 32), ("hour", 24), ("weekday", 7)])
    with pytest.raises(ValueError, match=r"`fields` must name the standard marks .*got \['month'\]"):
        TemporalEmbedding(8, fields=[("month", 13)])


def test_interop_exports_the_extra_tables_after_the_standard_ones():
    layer = TemporalEmbedding(8, "learned", "h", extra_fields=EXTRA[:1])
    state = to_torch_state_dict(layer)
    assert state["holiday_embed.weight"].shape == (2, 8) and state["hour_embed.weight"].shape == (24, 8)


# -- TimeFeatureEmbedding and DataEmbedding with extra columns --------------------------------


def test_time_feature_embedding_reads_extra_columns_and_keeps_them_in_its_config():
    layer = TimeFeatureEmbedding(8, "h", extra_columns=3)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 5, 7)).astype("float32")
    out = numpy(layer(x))
    np.testing.assert_allclose(out, x @ numpy(layer.embed.kernel), atol=1e-5)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["extra_columns"] == 3
    restored = TimeFeatureEmbedding.from_config(config)
    restored.build(x.shape)
    restored.set_weights(layer.get_weights())
    np.testing.assert_allclose(numpy(restored(x)), out, atol=1e-6)
    old = {k: v for k, v in config.items() if k != "extra_columns"}
    assert TimeFeatureEmbedding.from_config(old).width == 4
    with pytest.raises(ValueError, match=r"timeF width of freq='h' plus `extra_columns`=3, 7, got 4"):
        layer(x[..., :4])


@pytest.mark.parametrize("extra_columns", [-1, 2.5, "3", None, True])
def test_extra_columns_must_be_a_non_negative_int(extra_columns):
    message = rf"`extra_columns` must be a non-negative integer, got {extra_columns!r}"
    with pytest.raises(ValueError, match=message):
        TimeFeatureEmbedding(8, extra_columns=extra_columns)
    with pytest.raises(ValueError, match=message):
        DataEmbedding(3, 8, "timeF", extra_columns=extra_columns)


@pytest.mark.parametrize("cls", [DataEmbedding, DataEmbeddingWithoutPosition])
def test_data_embedding_passes_extra_fields_and_columns_to_its_calendar_term(cls):
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
    marks = covariate_marks()
    layer = cls(3, 8, "fixed", "h", dropout=0.0, extra_fields=EXTRA)
    plain = numpy(layer(x))
    np.testing.assert_allclose(numpy(layer(x, marks)) - plain, numpy(layer.temporal_embedding(marks)), atol=1e-5)
    assert layer.temporal_embedding.extra_fields == tuple(EXTRA)
    timef = np.random.default_rng(2).uniform(-0.5, 0.5, (2, 6, 6)).astype("float32")
    layer = cls(3, 8, "timeF", "h", dropout=0.0, extra_columns=2)
    assert tuple(layer(x, timef).shape) == (2, 6, 8) and layer.temporal_embedding.width == 6
    with pytest.raises(ValueError, match=r"`x_mark` last dimension must equal `the timeF width of freq \+ extra_columns`=6, got 4"):
        layer(x, timef[..., :4])
    config = json.loads(json.dumps(layer.get_config()))
    assert config["extra_columns"] == 2 and cls.from_config(config).temporal_embedding.width == 6


def test_data_embedding_config_round_trips_extra_fields():
    layer = DataEmbedding(3, 8, "learned", "5min", extra_fields=EXTRA)
    config = json.loads(json.dumps(layer.get_config()))
    restored = DataEmbedding.from_config(config)
    assert restored.temporal_embedding.extra_fields == tuple(EXTRA)
    assert restored.temporal_embedding.minute_embed.input_dim == 12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(embed_type="timeF", extra_fields=EXTRA), r"`extra_fields` must be None with embed_type='timeF'"),
        (dict(embed_type="timeF", fields=list(STANDARD)), r"`fields` must be None with embed_type='timeF'"),
        (dict(embed_type="fixed", extra_columns=2), r"`extra_columns` must be 0 with embed_type='fixed'.*got 2"),
    ],
)
def test_data_embedding_refuses_covariates_of_the_other_encoding(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataEmbedding(3, 8, **kwargs)
