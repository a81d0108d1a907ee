"""Timestamps -> calendar marks and continuous time features (timeF).

The two encodings of Time-Series-Library (`utils/timefeatures.py` and the
dataset loaders):

- `marks(dates, freq=None)`: `timeenc=0`, integer columns
  `[month 1-12, day 1-31, weekday 0-6 (Monday=0), hour 0-23, minute // 15 0-3]`
  (minute buckets follow a sub-hourly `freq`; secondly data adds `second`),
  the input of `kerasfactory.layers.TemporalEmbedding`.
- `time_features(dates, freq)`: `timeenc=1`, features in `[-0.5, 0.5]` chosen by
  the frequency, the input of `kerasfactory.layers.TimeFeatureEmbedding`.

Calendar covariates extend both encodings, in the data's local time:
`holiday_features` (public holidays of a country or subdivision, from the
optional `holidays` package), `event_features` (the user's own events table),
and `calendar`, which appends them to either encoding with the spec the layers
need (`extra_columns` for `TimeFeatureEmbedding`, `extra_fields` for
`TemporalEmbedding`).

`dates` may be a pandas `DatetimeIndex`, a Series or array of datetimes, or a
sequence of date strings. Every timestamp is encoded on its own, so unsorted
or irregular input is allowed and gives the rows in input order. Timezone-aware
timestamps are encoded in their own (local) wall-clock time.

pandas is optional: it is imported only when these functions run
(`pip install kerasfactory[timefeatures]`); so is `holidays`
(`pip install kerasfactory[holidays]`), for `holiday_features` only.
"""

import datetime
import importlib
import numbers
import os

import numpy as np

from kerasfactory.freq import FREQ_WIDTH, mark_fields, minute_step, normalize_freq

__all__ = [
    "FREQ_WIDTH",
    "TIMEF_NAMES",
    "calendar",
    "event_features",
    "holiday_features",
    "infer_freq",
    "marks",
    "normalize_freq",
    "seasonal_period",
    "time_features",
]

# The timeF columns per frequency code, in the reference order (`time_features`).
TIMEF_NAMES = {
    "s": ("second", "minute", "hour", "weekday", "day", "yearday"),
    "t": ("minute", "hour", "weekday", "day", "yearday"),
    "h": ("hour", "weekday", "day", "yearday"),
    "d": ("weekday", "day", "yearday"),
    "b": ("weekday", "day", "yearday"),
    "w": ("day", "week"),
    "m": ("month",),
    "a": ("month",),
}
HOLIDAY_NAMES = ("holiday", "days_to_holiday", "days_since_holiday")
ENCODINGS = ("timeF", "marks")


def _optional(module, why):
    """The optional `module`, or an ImportError that says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(why) from error


def _pandas():
    return _optional("pandas", "kerasfactory.time_features needs pandas: pip install kerasfactory[timefeatures]")


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


def marks(dates, freq=None):
    """Integer calendar marks, Time-Series-Library `timeenc=0`.

    With `freq`, one column per field of `kerasfactory.freq.mark_fields(freq)`,
    in order: `[month (1-12), day (1-31), weekday (0-6, Monday=0), hour (0-23)]`
    for hourly and coarser data, then `minute // step` for minutely data and
    `minute, second (0-59)` for secondly data. The minute bucket follows the
    data's step (`kerasfactory.freq.minute_step`): `minute // 5` (0-11) for
    `'5min'`, the minute itself for `'min'`, `minute // 15` (0-3, the
    reference) for `'t'`. Without `freq`, the reference's five columns
    `[month, day, weekday, hour, minute // 15]`.

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings;
            timezone-aware timestamps give their own wall-clock fields.
        freq: `None` (default) or a code or pandas alias (see `normalize_freq`).

    Returns:
        `np.ndarray` int64 `(time, fields)` (`(time, 5)` without `freq`),
        one row per timestamp in input order (unsorted input is allowed).

    Raises:
        ValueError: for NaT or unparseable dates, naming the first position,
            or an unsupported `freq`.
        ImportError: without pandas.

    Example:
    >>> marks(["2016-07-01 13:45:00"])
    array([[ 7,  1,  4, 13,  3]])
    >>> marks(["2016-07-01 13:45:00"], "5min")
    array([[ 7,  1,  4, 13,  9]])
    >>> marks(["2016-07-01 13:45:00"], "h")
    array([[ 7,  1,  4, 13]])
    """
    step = None if freq is None else minute_step(freq)
    index = _to_index(dates)
    columns = [index.month, index.day, index.dayofweek, index.hour, index.minute // (step or 15)]
    if freq is not None:
        columns = (columns + [index.second])[: len(mark_fields(freq))]
    return np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1).reshape(-1, len(columns))


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
    columns = [np.asarray(feature[n](), dtype=np.float64) - 0.5 for n in TIMEF_NAMES[code]]
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


def _positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


def _local(index):
    """Timezone-aware timestamps as their own wall-clock time (naive); naive ones unchanged."""
    return index.tz_localize(None) if index.tz is not None else index


def _holidays():
    return _optional("holidays", "holiday features need the holidays package: pip install kerasfactory[holidays]")


def _holiday_days(name, code, years):
    """Sorted holiday dates of `code` ('FR', 'AU-VIC') in `years`, as days since 1970-01-01."""
    holidays = _holidays()
    supported = holidays.list_supported_countries()
    how = "see holidays.list_supported_countries()"
    country, dash, subdiv = code.strip().partition("-") if isinstance(code, str) else ("", "", "")
    match = {c.upper(): c for c in supported}.get(country.upper())
    if match is None:
        raise ValueError(
            f"`{name}` must be a country code with an optional subdivision, such as 'FR' or "
            f"'AU-VIC', that the holidays package knows ({how}), got {code!r}"
        )
    if dash:
        known = {s.upper(): s for s in supported[match]}
        if subdiv.upper() not in known:
            listing = ", ".join(repr(s) for s in supported[match]) or "none"
            raise ValueError(
                f"`{name}` subdivision must be one of {match}'s ({listing}; {how}), got {code!r}"
            )
        subdiv = known[subdiv.upper()]
    table = holidays.country_holidays(match, subdiv=subdiv or None, years=years)
    return np.array(sorted(table), dtype="datetime64[D]").astype(np.int64)


def _holiday_columns(name, index, code, cap):
    local = _local(index)
    years = range(int(local.year.min()) - 1, int(local.year.max()) + 2) if len(local) else []
    table = _holiday_days(name, code, years)
    days = np.asarray(local.values.astype("datetime64[D]").astype(np.int64))
    to_next = np.full(days.shape, cap, np.int64)
    since = np.full(days.shape, cap, np.int64)
    if len(table):
        after = np.searchsorted(table, days, side="left")  # first holiday on or after the day
        found = after < len(table)
        to_next[found] = table[after[found]] - days[found]
        before = np.searchsorted(table, days, side="right") - 1  # last holiday on or before it
        found = before >= 0
        since[found] = days[found] - table[before[found]]
    columns = [to_next == 0, np.minimum(to_next, cap), np.minimum(since, cap)]
    return np.stack(columns, axis=1).astype(np.float32).reshape(-1, 3)


def holiday_features(dates, code, cap=30):
    """Public holidays of a country or subdivision, per timestamp, from the `holidays` package.

    For each timestamp's local calendar date (timezone-aware timestamps in
    their own wall-clock time, so 23:30 in Melbourne is that Melbourne day):
    `[is_holiday, days until the next holiday, days since the last holiday]`,
    both distances 0 on a holiday and capped at `cap`. Holidays are those
    `holidays.country_holidays(country, subdiv)` lists (observed days
    included) for the years of the dates and the year before and after, so
    distances across New Year are right; where no holiday lies within the
    searched years a distance is `cap`.

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings.
        code: `"CC"` or `"CC-SUBDIV"`, a country code with an optional
            subdivision (`"FR"`, `"AU-VIC"`, `"US-CA"`), case-insensitive.
        cap: positive int, the largest distance reported. Defaults to 30.

    Returns:
        `np.ndarray` float32 `(time, 3)`, one row per timestamp in input order.

    Raises:
        ValueError: for an unknown country or subdivision (see
            `holidays.list_supported_countries()`), a bad `cap`, or bad dates.
        ImportError: without pandas or `holidays`
            (`pip install kerasfactory[holidays]`).

    Example:
    >>> holiday_features(["2024-11-04", "2024-11-05", "2024-11-06"], "AU-VIC")
    array([[ 0.,  1., 30.],
           [ 1.,  0.,  0.],
           [ 0., 30.,  1.]], dtype=float32)
    """
    cap = _positive_int("cap", cap)
    return _holiday_columns("code", _to_index(dates), code, cap)


def _read_events(events):
    pd = _pandas()
    if isinstance(events, (str, os.PathLike)):
        events = pd.read_csv(events, dtype=str)
    elif not isinstance(events, pd.DataFrame):
        raise TypeError(
            f"`events` must be a pandas DataFrame or the path of a CSV file, got {type(events).__name__}"
        )
    columns = [str(c) for c in events.columns]
    if "event" not in columns or "date" not in columns and not {"start", "end"} <= set(columns):
        raise ValueError(
            "`events` must have an 'event' column and either a 'date' column or 'start' and 'end' "
            f"columns, got columns {columns}"
        )
    if len(events) == 0:
        raise ValueError("`events` must hold at least one event, got an empty table")
    return events.reset_index(drop=True)


def _stamp(pd, events, column, row, tz):
    """The naive local timestamp in `events[column][row]`, or None where missing."""
    if column not in events.columns:
        return None
    raw = events[column].iloc[row]
    raw = raw.item() if isinstance(raw, (np.number, np.bool_)) else raw  # 3, not np.int64(3), in messages
    try:
        if isinstance(raw, numbers.Number) and not pd.isna(raw):
            raise TypeError("a number")
        stamp = pd.Timestamp(raw)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(
            f"`events` column {column!r} must hold dates or timestamps, got {raw!r} at row {row}"
        ) from None
    if pd.isna(stamp):
        return None
    if stamp.tz is not None:  # an instant: in the data's time zone, else its own wall clock
        stamp = (stamp.tz_convert(tz) if tz is not None else stamp).tz_localize(None)
    date_only = type(raw) is datetime.date or isinstance(raw, str) and ":" not in raw
    if column == "end" and date_only and stamp == stamp.normalize():
        stamp += pd.Timedelta(days=1)  # a date-only end means "through that day"
    return stamp


def _event_spans(events, tz):
    """`{name: [(start_ns, end_ns), ...]}` of half-open local-time spans, names as strings."""
    pd = _pandas()
    spans = {}
    for row in range(len(events)):
        name = events["event"].iloc[row]
        if pd.isna(name) or str(name).strip() == "":
            got = "nothing" if pd.isna(name) else repr(name)
            raise ValueError(f"`events` column 'event' must name every event, got {got} at row {row}")
        date, start, end = (_stamp(pd, events, c, row, tz) for c in ("date", "start", "end"))
        if date is not None and (start, end) != (None, None):
            raise ValueError(f"`events` row {row} must give either 'date' or 'start' and 'end', got both")
        if date is not None:
            start, end = date.normalize(), date.normalize() + pd.Timedelta(days=1)
        elif start is None or end is None:
            missing = "end" if start is not None else "start" if end is not None else "date"
            raise ValueError(f"`events` column {missing!r} must hold a date or timestamp, got nothing at row {row}")
        elif end <= start:
            raw = events["start"].iloc[row], events["end"].iloc[row]
            raise ValueError(
                f"`events` column 'end' must be after 'start', got start {raw[0]!r}, end {raw[1]!r} at row {row}"
            )
        spans.setdefault(str(name), []).append((start.value, end.value))
    return spans


def event_features(dates, events):
    """One 0/1 indicator per event name, from the user's events table, in local time.

    `events` (a DataFrame, or the path of a CSV file) has an `event` column
    (the name) and, per row, either `date` (the whole local day it falls on)
    or `start` and `end` (timestamps; the span is `[start, end)`: start
    inclusive, end exclusive; an `end` written as a date only, a string such
    as `"2024-11-05"` or a `datetime.date`, means through that day, while
    `"2024-11-05 00:00"` or a `Timestamp` ends at that instant). Timestamp `t` gets 1 in the
    column of every event with a span holding `t`: a span within one day does
    not cover that day's midnight stamp of daily data; use `date` for whole
    days. Times are compared in the data's local wall-clock time: naive
    timestamps as they are, timezone-aware ones in their own time zone; a
    timezone-aware `start`/`end` is converted to the data's time zone
    (or read in its own wall clock when the data is naive).

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings.
        events: a `pandas.DataFrame` or a CSV path, as above. Rows of one
            name may repeat (a yearly festival) and may overlap.

    Returns:
        `(array, names)`: float32 `(time, n_events)` of 0/1 and the distinct
        event names (strings), sorted, one per column.

    Raises:
        ValueError: for a bad table, naming the column and the row (0-based):
            missing columns, an unnamed event, unparseable or missing dates,
            `end` not after `start`, both `date` and `start`/`end` in one
            row, or an empty table; or for bad `dates`.
        TypeError: when `events` is neither a DataFrame nor a path.

    Example:
    >>> table = pd.DataFrame({"event": ["sale", "cup"], "date": ["2024-11-29", "2024-11-05"]})
    >>> event_features(["2024-11-05 10:00", "2024-11-29 23:00"], table)
    (array([[1., 0.],
           [0., 1.]], dtype=float32), ['cup', 'sale'])
    """
    index = _to_index(dates)
    spans = _event_spans(_read_events(events), index.tz)
    times = _local(index).values.astype("datetime64[ns]").astype(np.int64)
    names = sorted(spans)
    out = np.zeros((len(times), len(names)), np.float32)
    for column, name in enumerate(names):
        starts, ends = (np.sort(np.array(edge, np.int64)) for edge in zip(*spans[name]))
        # Spans holding t = spans started at or before t - spans ended at or before t.
        active = np.searchsorted(starts, times, "right") - np.searchsorted(ends, times, "right")
        out[:, column] = active > 0
    return out, names


def _event_field_names(names):
    """`event_<name>` with every character not allowed in a Python identifier made `_`."""
    fields = {}
    for name in names:
        field = "event_" + "".join(c if ("_" + c).isidentifier() else "_" for c in name)
        if field in fields:
            raise ValueError(
                f"`events` names must stay distinct as field names, got {fields[field]!r} and "
                f"{name!r} (both {field!r})"
            )
        fields[field] = name
    return list(fields)


def calendar(dates, freq, *, holidays=None, events=None, encoding="timeF", cap=30):
    """Calendar features plus holiday and event covariates, for either encoding.

    `encoding="timeF"` (for `TimeFeatureEmbedding(..., extra_columns=n)`):
    the `time_features(dates, freq)` columns, then with `holidays`
    `[is_holiday - 0.5, to_next / cap - 0.5, since_last / cap - 0.5]`, then
    with `events` each indicator - 0.5; every column in `[-0.5, 0.5]`.

    `encoding="marks"` (for `TemporalEmbedding(..., extra_fields=fields)`):
    the `marks(dates, freq)` columns (the standard fields of `freq`), then integer fields `holiday` (0/1,
    table size 2), `days_to_holiday` and `days_since_holiday` (0 to `cap`,
    size `cap + 1`), then `event_<name>` (0/1, size 2) per event, where
    characters not allowed in a name become `_`.

    Args:
        dates: a `DatetimeIndex`, a Series/array of datetimes or date strings.
        freq: a code or pandas alias (see `normalize_freq`).
        holidays: `None` or a country code with an optional subdivision
            (`"FR"`, `"AU-VIC"`), see `holiday_features`.
        events: `None` or an events table (DataFrame or CSV path), see
            `event_features`.
        encoding: `"timeF"` (default) or `"marks"`.
        cap: positive int, the largest holiday distance. Defaults to 30.

    Returns:
        `(array, spec)`: float32 (timeF) or int64 (marks) `(time, columns)`,
        one row per timestamp, and a dict with `"encoding"`, `"names"` (every
        column's name) and `"extra_columns"` (timeF: the number of columns
        beyond `FREQ_WIDTH[freq]`) or `"extra_fields"` (marks: the
        `(name, table size)` of the columns after the standard marks).

    Raises:
        ValueError: for a bad `encoding`, `cap`, `freq`, holiday code or
            events table (see `holiday_features`, `event_features`).

    Example:
    >>> x, spec = calendar(pd.date_range("2024-11-04", periods=48, freq="h"), "h", holidays="AU-VIC")
    >>> x.shape, spec["extra_columns"]
    ((48, 7), 3)
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"`encoding` must be one of 'timeF', 'marks', got {encoding!r}")
    cap = _positive_int("cap", cap)
    code = normalize_freq(freq)
    index = _to_index(dates)
    extra, names = [], []
    if holidays is not None:
        extra.append(_holiday_columns("holidays", index, holidays, cap))
        names += HOLIDAY_NAMES
    if events is not None:
        indicators, event_names = event_features(index, events)
        extra.append(indicators)
        names += _event_field_names(event_names)
    if encoding == "timeF":
        if holidays is not None:
            extra[0] = extra[0] / np.array([1, cap, cap], np.float32)
        columns = [time_features(index, freq), *(e - 0.5 for e in extra)]
        array = np.concatenate(columns, axis=1).astype(np.float32)
        return array, {"encoding": encoding, "names": [*TIMEF_NAMES[code], *names], "extra_columns": len(names)}
    base = marks(index, freq)
    array = np.concatenate([base, *(np.asarray(e, np.int64) for e in extra)], axis=1)
    sizes = {"holiday": 2, "days_to_holiday": cap + 1, "days_since_holiday": cap + 1}
    fields = [(name, sizes.get(name, 2)) for name in names]
    standard = [name for name, _ in mark_fields(freq)]
    return array, {"encoding": encoding, "names": [*standard, *names], "extra_fields": fields}
