"""Timestamps -> calendar marks and continuous time features (timeF).

The two encodings of Time-Series-Library (`utils/timefeatures.py` and the
dataset loaders):

- `marks(dates)`: `timeenc=0`, integer columns
  `[month 1-12, day 1-31, weekday 0-6 (Monday=0), hour 0-23, minute // 15 0-3]`,
  the input of `kerasfactory.layers.TemporalEmbedding`.
- `time_features(dates, freq)`: `timeenc=1`, features in `[-0.5, 0.5]` chosen by
  the frequency, the input of `kerasfactory.layers.TimeFeatureEmbedding`.

`dates` may be a pandas `DatetimeIndex`, a Series or array of datetimes, or a
sequence of date strings. Every timestamp is encoded on its own, so unsorted
or irregular input is allowed and gives the rows in input order. Timezone-aware
timestamps are encoded in their own (local) wall-clock time.

pandas is optional: it is imported only when these functions run
(`pip install kerasfactory[timefeatures]`).
"""

import numpy as np

from kerasfactory.freq import FREQ_WIDTH, normalize_freq

__all__ = ["FREQ_WIDTH", "infer_freq", "marks", "normalize_freq", "seasonal_period", "time_features"]


def _pandas():
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            "kerasfactory.time_features needs pandas: pip install kerasfactory[timefeatures]"
        ) from error
    return pandas


def _first_bad(pd, raw, parsed):
    """Raises a ValueError naming the first NaT or unparseable entry, if any."""
    bad = np.flatnonzero(np.asarray(pd.isna(parsed)))
    if len(bad):
        position = int(bad[0])
        raise ValueError(
            f"`dates` must hold valid timestamps, got {raw[position]!r} at position {position}"
        )


def _to_index(dates):
    """Returns `dates` as a `DatetimeIndex`, or raises naming the first bad entry."""
    pd = _pandas()
    if isinstance(dates, pd.PeriodIndex):
        dates = dates.to_timestamp()
    if isinstance(dates, str) or np.ndim(dates) != 1:
        raise ValueError(
            "`dates` must be one-dimensional (a DatetimeIndex, Series or sequence), "
            f"got {type(dates).__name__} with {np.ndim(dates)} dimensions"
        )
    if isinstance(dates, pd.DatetimeIndex):
        index = dates
    else:
        raw = np.asarray(dates, dtype=object)
        if len(raw) and np.asarray(dates).dtype.kind in "biuf":
            raise TypeError(
                f"`dates` must hold datetimes or date strings, got numbers ({np.asarray(dates).dtype})"
            )
        try:
            index = pd.DatetimeIndex(pd.to_datetime(raw))
        except (ValueError, TypeError, OverflowError) as error:
            # Strict parsing failed: parse entry by entry to find the bad one;
            # if every entry parses alone (mixed formats), use that result.
            parsed = pd.to_datetime(pd.Series(raw), errors="coerce", format="mixed")
            _first_bad(pd, raw, parsed)
            if not isinstance(parsed.dtype, (np.dtype, pd.DatetimeTZDtype)) or parsed.dtype.kind != "M":
                raise ValueError(f"`dates` must be parseable as one timestamp type, got: {error}") from error
            index = pd.DatetimeIndex(parsed)
    if index.hasnans:
        _first_bad(pd, np.asarray(dates, dtype=object), index)
    return index


def marks(dates):
    """Integer calendar marks, Time-Series-Library `timeenc=0`.

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings.

    Returns:
        `np.ndarray` int64 `(time, 5)`: `[month (1-12), day (1-31),
        weekday (0-6, Monday=0), hour (0-23), minute // 15 (0-3)]`, one row
        per timestamp in input order (unsorted input is allowed).

    Raises:
        ValueError: for NaT or unparseable dates, naming the first position.
        ImportError: without pandas.

    Example:
    >>> marks(["2016-07-01 13:45:00"])
    array([[ 7,  1,  4, 13,  3]])
    """
    index = _to_index(dates)
    columns = [index.month, index.day, index.dayofweek, index.hour, index.minute // 15]
    return np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1).reshape(-1, 5)


def time_features(dates, freq="h"):
    """Continuous time features in `[-0.5, 0.5]`, Time-Series-Library `timeenc=1`.

    Each feature is `value / max - 0.5` with second/59, minute/59, hour/23,
    day-of-week/6, (day-of-month - 1)/30, (day-of-year - 1)/365,
    (month - 1)/11 and (ISO week - 1)/52. Columns per frequency, in the
    reference order:

    - `'s'`: second, minute, hour, day-of-week, day-of-month, day-of-year (6)
    - `'t'`: minute, hour, day-of-week, day-of-month, day-of-year (5)
    - `'h'`: hour, day-of-week, day-of-month, day-of-year (4)
    - `'d'`, `'b'`: day-of-week, day-of-month, day-of-year (3)
    - `'w'`: day-of-month, week-of-year (2)
    - `'m'`: month-of-year (1)
    - `'a'`: month-of-year (1). Decision: Time-Series-Library returns no
      columns for yearly data while its `TimeFeatureEmbedding` expects one,
      so yearly data gets month-of-year, making the width 1 as the layer needs.

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings;
            unsorted input is allowed (rows follow the input order).
        freq: a code or pandas alias (`'h'`, `'30min'`, `'D'`, `'W-SUN'`,
            `'ME'`, ...; see `normalize_freq`).

    Returns:
        `np.ndarray` float32 `(time, FREQ_WIDTH[normalize_freq(freq)])`.

    Raises:
        ValueError: for NaT or unparseable dates (naming the first position)
            or an unsupported `freq` (listing the supported ones).
        ImportError: without pandas.

    Example:
    >>> time_features(["2016-07-01 23:00:00"], freq="h").round(4)
    array([[ 0.5   ,  0.1667, -0.5   , -0.0014]], dtype=float32)
    """
    code = normalize_freq(freq)
    index = _to_index(dates)
    feature = {
        "second": lambda: index.second / 59.0,
        "minute": lambda: index.minute / 59.0,
        "hour": lambda: index.hour / 23.0,
        "weekday": lambda: index.dayofweek / 6.0,
        "day": lambda: (index.day - 1) / 30.0,
        "yearday": lambda: (index.dayofyear - 1) / 365.0,
        "month": lambda: (index.month - 1) / 11.0,
        "week": lambda: (np.asarray(index.isocalendar().week, dtype=np.float64) - 1) / 52.0,
    }
    names = {
        "s": ["second", "minute", "hour", "weekday", "day", "yearday"],
        "t": ["minute", "hour", "weekday", "day", "yearday"],
        "h": ["hour", "weekday", "day", "yearday"],
        "d": ["weekday", "day", "yearday"],
        "b": ["weekday", "day", "yearday"],
        "w": ["day", "week"],
        "m": ["month"],
        "a": ["month"],
    }[code]
    columns = [np.asarray(feature[n](), dtype=np.float64) - 0.5 for n in names]
    return np.stack(columns, axis=1).astype(np.float32).reshape(-1, FREQ_WIDTH[code])


def infer_freq(dates):
    """The pandas frequency string of regularly spaced timestamps (e.g. `'h'`, `'15min'`).

    Wraps `pandas.infer_freq`; pass the result to `normalize_freq` for the
    Time-Series-Library code.

    Raises:
        ValueError: when fewer than 3 timestamps are given, or when they are
            irregular or unsorted (no single frequency fits).
        ImportError: without pandas.
    """
    pd = _pandas()
    index = _to_index(dates)
    if len(index) < 3:
        raise ValueError(f"`dates` must hold at least 3 timestamps to infer a frequency, got {len(index)}")
    freq = pd.infer_freq(index)
    if freq is None:
        raise ValueError(
            "`dates` must be sorted and regularly spaced to infer a frequency, got irregular "
            f"timestamps (first steps: {list(index[:4].astype(str))})"
        )
    return freq


def seasonal_period(freq):
    """Steps in one season: a day for sub-daily data (24 hourly, 48 half-hourly), a week
    for daily (7), 5 for business days, 52 for weekly, 12 monthly, 4 quarterly, 1 yearly."""
    pd = _pandas()
    day = pd.Timedelta(days=1)
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        step = None
    if step is not None and step > pd.Timedelta(0):
        if step < day and day % step == pd.Timedelta(0):
            return int(day // step)
        if step == day:
            return 7
        if step == 7 * day:
            return 52
    name = offset.name.split("-")[0]
    if name in ("B", "C"):
        return 5
    if name.startswith("W"):
        return 52
    if name.lstrip("B").startswith("Q"):
        return 4
    if name.lstrip("BS").startswith("M") or name in ("SME", "SMS"):
        return 12
    return 1
