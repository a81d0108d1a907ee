"""Timestamps -> marks and timeF: exact values, input forms, errors, real ETTh1 dates."""

import ast
import datetime
import pathlib
import sys

import keras
import numpy as np
import pytest

from kerasfactory import time_features as tf_
from kerasfactory.layers import TemporalEmbedding, TimeFeatureEmbedding
from kerasfactory.freq import FREQ_WIDTH, normalize_freq
from tests import reference_torch

pd = pytest.importorskip("pandas", reason="time_features needs pandas (kerasfactory[timefeatures])")

ROOT = pathlib.Path(__file__).resolve().parents[1]
ETTH1 = ROOT / ".." / "shared" / "data" / "ETT-small" / "ETTh1.csv"

# Hand-computed: 2016-07-01 is a Friday (day 183 of a leap year); 2020-02-29 a
# Saturday (day 60); 2021-01-04 a Monday in ISO week 1; 2021-01-01 a Friday in
# ISO week 53 of 2020.
STAMPS = ["2016-07-01 00:00:00", "2020-02-29 23:59:59", "2021-01-04 12:15:30", "2021-01-01 06:44:00"]
MARKS = [[7, 1, 4, 0, 0], [2, 29, 5, 23, 3], [1, 4, 0, 12, 1], [1, 1, 4, 6, 2]]
# [second/59, minute/59, hour/23, weekday/6, (day-1)/30, (yearday-1)/365] - 0.5
SECONDLY = np.array(
    [
        [0 / 59, 0 / 59, 0 / 23, 4 / 6, 0 / 30, 182 / 365],
        [59 / 59, 59 / 59, 23 / 23, 5 / 6, 28 / 30, 59 / 365],
        [30 / 59, 15 / 59, 12 / 23, 0 / 6, 3 / 30, 3 / 365],
        [0 / 59, 44 / 59, 6 / 23, 4 / 6, 0 / 30, 0 / 365],
    ]
) - 0.5
MONTHLY = np.array([[6 / 11], [1 / 11], [0 / 11], [0 / 11]]) - 0.5
WEEKLY = np.array([[0 / 30, 25 / 52], [28 / 30, 8 / 52], [3 / 30, 0 / 52], [0 / 30, 52 / 52]]) - 0.5


def test_marks_match_hand_computed_calendar_fields():
    got = tf_.marks(STAMPS)
    assert got.dtype == np.int64 and got.shape == (4, 5)
    np.testing.assert_array_equal(got, MARKS)


@pytest.mark.parametrize(
    "freq, expected",
    [
        ("s", SECONDLY),
        ("t", SECONDLY[:, 1:]),
        ("h", SECONDLY[:, 2:]),
        ("d", SECONDLY[:, 3:]),
        ("b", SECONDLY[:, 3:]),
        ("w", WEEKLY),
        ("m", MONTHLY),
        ("a", MONTHLY),
    ],
)
def test_time_features_match_hand_computed_values_in_reference_column_order(freq, expected):
    got = tf_.time_features(STAMPS, freq)
    assert got.dtype == np.float32 and got.shape == (4, FREQ_WIDTH[freq])
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_yearly_features_have_the_width_the_embedding_expects():
    # The reference returns no column for yearly data but embeds width 1; we give month-of-year.
    assert tf_.time_features(STAMPS, "YE").shape == (4, reference_torch.FREQ_WIDTH["a"])


@pytest.mark.parametrize(
    "alias, code",
    [
        ("h", "h"), ("H", "h"), ("2h", "h"), ("t", "t"), ("min", "t"), ("T", "t"), ("30min", "t"),
        ("15min", "t"), ("1h30min", "t"), ("s", "s"), ("S", "s"), ("10s", "s"), ("d", "d"), ("D", "d"),
        ("b", "b"), ("B", "b"), ("w", "w"), ("W", "w"), ("W-SUN", "w"), ("m", "m"), ("M", "m"),
        ("ME", "m"), ("MS", "m"), ("Q", "m"), ("QE-DEC", "m"), ("a", "a"), ("A", "a"), ("Y", "a"),
        ("YE", "a"), ("YS", "a"),
    ],
)
def test_normalize_freq_maps_pandas_aliases_to_reference_codes(alias, code):
    assert normalize_freq(alias) == code
    assert tf_.normalize_freq is normalize_freq
    assert tf_.time_features(STAMPS[:1], alias).shape == (1, FREQ_WIDTH[code])


def test_pandas_offsets_and_their_inferred_frequency_are_accepted():
    index = pd.date_range("2020-01-01", periods=6, freq="15min")
    assert normalize_freq(index.freq) == "t"
    assert tf_.infer_freq(index) == "15min"
    assert normalize_freq(tf_.infer_freq(pd.date_range("2020-01-31", periods=4, freq="ME"))) == "m"


@pytest.mark.parametrize("freq", ["ms", "us", "ns", "bh", "W-JAN", "0h", "x", "", 3, None])
def test_unsupported_frequency_raises_listing_the_supported_ones(freq):
    with pytest.raises(ValueError, match=r"`freq` must be .*'h', 't', 's', 'd', 'b', 'w', 'm', 'a'"):
        tf_.time_features(STAMPS, freq)


def test_freq_width_table_is_the_reference_table():
    assert FREQ_WIDTH == reference_torch.FREQ_WIDTH
    for code, width in FREQ_WIDTH.items():
        assert TimeFeatureEmbedding(4, code).width == width


@pytest.mark.parametrize(
    "form",
    [
        lambda s: pd.DatetimeIndex(s),
        lambda s: pd.Series(pd.to_datetime(s)),
        lambda s: pd.Series(s),
        lambda s: np.array(s, dtype="datetime64[s]"),
        lambda s: [datetime.datetime.fromisoformat(x) for x in s],
        lambda s: tuple(s),
        lambda s: pd.to_datetime(s).to_period("s"),
    ],
    ids=["DatetimeIndex", "Series-datetime", "Series-str", "datetime64", "datetime", "tuple-str", "PeriodIndex"],
)
def test_every_input_form_gives_the_same_features(form):
    np.testing.assert_array_equal(tf_.marks(form(STAMPS)), MARKS)
    np.testing.assert_array_equal(tf_.time_features(form(STAMPS), "s"), tf_.time_features(STAMPS, "s"))


def test_unsorted_input_gives_rows_in_input_order():
    np.testing.assert_array_equal(tf_.marks(STAMPS[::-1]), np.array(MARKS)[::-1])


@pytest.mark.parametrize(
    "dates, position",
    [
        (["2020-01-01", "2020-01-02", "not a date"], 2),
        (["2020-01-01", None, "2020-01-03"], 1),
        (pd.Series(["2020-01-01", "2020-01-02", None, "2020-13-45"]), 2),
        (pd.DatetimeIndex(["2020-01-01", "NaT"]), 1),
        (["2020-02-30"], 0),
    ],
)
def test_nat_or_unparseable_dates_raise_naming_the_first_position(dates, position):
    with pytest.raises(ValueError, match=f"`dates` must hold valid timestamps, got .* at position {position}$"):
        tf_.marks(dates)
    with pytest.raises(ValueError, match=f"at position {position}$"):
        tf_.time_features(dates, "h")


def test_numbers_and_non_1d_input_are_rejected():
    with pytest.raises(TypeError, match="`dates` must hold datetimes or date strings"):
        tf_.marks(np.arange(3))
    with pytest.raises(ValueError, match="`dates` must be one-dimensional"):
        tf_.marks("2020-01-01")
    with pytest.raises(ValueError, match="`dates` must be one-dimensional"):
        tf_.marks([["2020-01-01"]])


def test_infer_freq_rejects_irregular_or_too_short_input():
    with pytest.raises(ValueError, match="regularly spaced"):
        tf_.infer_freq(["2020-01-01", "2020-01-02", "2020-01-04"])
    with pytest.raises(ValueError, match="at least 3"):
        tf_.infer_freq(["2020-01-01", "2020-01-02"])


def test_without_pandas_the_functions_say_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    for call in (lambda: tf_.marks(STAMPS), lambda: tf_.time_features(STAMPS), lambda: tf_.infer_freq(STAMPS)):
        with pytest.raises(ImportError, match=r"pip install kerasfactory\[timefeatures\]"):
            call()


def imported_modules(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names, {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}


def test_pandas_is_imported_only_inside_the_time_feature_functions():
    # Keras itself may import pandas where installed; our layers never do.
    for path in (ROOT / "kerasfactory" / "layers").glob("*.py"):
        assert "pandas" not in imported_modules(path)[0], path
    _, top_level = imported_modules(ROOT / "kerasfactory" / "time_features.py")
    assert "pandas" not in top_level


@pytest.fixture(scope="module")
def etth1_dates():
    if not ETTH1.exists():
        pytest.skip(f"ETTh1 dates not found at {ETTH1} (the shared data folder is absent)")
    return pd.read_csv(ETTH1, usecols=["date"])["date"]


def test_real_etth1_dates_give_marks_and_features_in_range(etth1_dates):
    n = len(etth1_dates)
    marks = tf_.marks(etth1_dates)
    assert marks.shape == (n, 5)
    low, high = marks.min(axis=0), marks.max(axis=0)
    np.testing.assert_array_equal(low, [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(high, [12, 31, 6, 23, 0])  # hourly: minute // 15 is always 0
    assert tf_.infer_freq(etth1_dates) == "h"
    for freq in ("h", "t", "d", "w", "m"):
        features = tf_.time_features(etth1_dates, freq)
        assert features.shape == (n, FREQ_WIDTH[freq])
        assert features.min() >= -0.5 and features.max() <= 0.5
        assert np.all(features.max(axis=0) - features.min(axis=0) > 0) or freq == "t"


def test_real_etth1_marks_feed_temporal_embedding_without_out_of_range_index(etth1_dates):
    marks = tf_.marks(etth1_dates)
    for freq in ("h", "t"):
        layer = TemporalEmbedding(4, freq=freq, out_of_range="error")
        out = keras.ops.convert_to_numpy(layer(marks[None]))  # raises ValueError on any out-of-range mark
        assert out.shape == (1, len(marks), 4) and np.all(np.isfinite(out))
    features = tf_.time_features(etth1_dates, "h")
    assert tuple(TimeFeatureEmbedding(4, "h")(features[None, :96]).shape) == (1, 96, 4)
