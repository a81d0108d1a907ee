"""Reading a table of timestamps and numeric columns, and refusing bad input clearly.

Two layouts are read:

- **wide**: one series, one row per timestamp (`date, col1, col2, ...`);
- **long** (`id_col`): many series stacked, one row per series and timestamp
  (`id, date, col1, col2, ...`). Each series is checked on its own (sorted, no
  duplicate timestamps, evenly spaced); all must share one frequency.

Rows after a series' last observed target (the target empty, later rows too) are its
*future rows*: they carry the values of known-ahead columns at the forecast steps. They are
never filled and never trained on; `predict` reads them.

Every problem a user can fix raises `DataError` with one paragraph that says what is
wrong, where (column, series, timestamp, CSV line), and what to do. The file is only read,
never written.
"""

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kerasfactory.data.errors import DataError

FILLS = ("ffill", "interpolate")
_DATE_NAMES = ("date", "datetime", "timestamp", "time", "ds")
_MAX_LISTED = 5


@dataclass
class Series:
    """A regular multivariate series: `values[t, j]` is column `columns[j]` at `dates[t]`.

    `id` names the series in a long table (None for a wide one). `future_dates` and
    `future_values` are its future rows (after the last observed target), with NaN where
    a value is empty; `values` never holds them.
    """

    dates: pd.DatetimeIndex
    values: np.ndarray
    columns: list
    freq: str
    source: str
    date_col: str = "date"
    id: object = None
    future_dates: pd.DatetimeIndex = None
    future_values: np.ndarray = None

    def __post_init__(self):
        if self.future_dates is None:
            self.future_dates = pd.DatetimeIndex([])
        if self.future_values is None:
            self.future_values = np.zeros((0, len(self.columns)))

    @property
    def label(self):
        """How messages name this series."""
        return "the series" if self.id is None else f"series {self.id!r}"


@dataclass
class Panel:
    """One or more `Series` with the same columns and frequency (`id_col` None: one wide series)."""

    series: list
    columns: list
    freq: str
    source: str
    date_col: str
    id_col: object = None
    target: object = None
    future_cols: list = field(default_factory=list)

    @property
    def ids(self):
        return [s.id for s in self.series]


def _listing(items, limit=_MAX_LISTED):
    items = list(items)
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


class _Rows:
    """Names rows for messages: 'CSV line N' for a file (line 1 is the header), else 'row N'."""

    def __init__(self, frame, csv):
        self.csv = csv
        self.labels = None if csv else list(frame.index)

    def __call__(self, position):
        position = int(position)
        if self.csv:
            return f"CSV line {position + 2}"
        return f"row {self.labels[position]!r}"

    def many(self, positions):
        if self.csv:
            return "CSV line(s) " + _listing(int(p) + 2 for p in positions)
        return "row(s) " + _listing(repr(self.labels[int(p)]) for p in positions)


def _line(row):
    """The CSV line number of a data row (line 1 is the header)."""
    return int(row) + 2


def read_csv(path):
    """Reads `path` into a DataFrame of strings/numbers; raises `DataError` if it cannot."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"The CSV file {path!r} does not exist. Check the path given with --csv.")
    if os.path.isdir(path):
        raise DataError(f"{path!r} is a directory, not a CSV file. Give the path of a CSV file.")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"The CSV file {path!r} is empty; it needs a header row and data rows.") from err
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        raise DataError(
            f"The file {path!r} could not be read as CSV ({err}). It must be a comma-separated "
            "text file with a header row."
        ) from err
    if frame.empty:
        raise DataError(f"The CSV file {path!r} has a header but no data rows.")
    return frame


def _pick_date_col(frame, date_col, source):
    if date_col is not None:
        if date_col not in frame.columns:
            raise DataError(
                f"The timestamp column {date_col!r} is not in {source}. Its columns are: "
                f"{', '.join(map(repr, frame.columns))}. Name the timestamp column with --date-col."
            )
        return date_col
    lowered = {str(c).lower(): c for c in frame.columns}
    for name in _DATE_NAMES:
        if name in lowered:
            return lowered[name]
    raise DataError(
        f"No timestamp column found in {source} (looked for {', '.join(_DATE_NAMES)}). Its "
        f"columns are: {', '.join(map(repr, frame.columns))}. Name the timestamp column with "
        "--date-col."
    )


def _parse_dates(raw, date_col, source, tz, rows):
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or raw.dtype.kind == "M":
        dates = pd.DatetimeIndex(raw)
    else:
        try:
            dates = pd.to_datetime(raw, format="mixed")
        except (ValueError, TypeError, OverflowError) as err:
            raise DataError(
                f"The timestamp column {date_col!r} of {source} could not be parsed as dates "
                f"({err}). Use ISO timestamps such as 2016-07-01 00:00:00, or name another "
                "column with --date-col."
            ) from err
    missing = np.flatnonzero(np.asarray(pd.isna(dates)))
    if missing.size:
        raise DataError(
            f"The timestamp column {date_col!r} of {source} has {missing.size} empty "
            f"value(s), at {rows.many(missing)}. Every row needs a timestamp."
        )
    dates = pd.DatetimeIndex(dates)
    if dates.tz is not None:
        # Aware timestamps become naive wall-clock times in `tz`, so that spacing stays regular.
        dates = dates.tz_convert(tz).tz_localize(None)
    return dates


def _check_order(dates, date_col, source, where):
    """`where(i)` names row `i` of `dates` in messages."""
    duplicated = np.flatnonzero(np.asarray(dates.duplicated()))
    if duplicated.size:
        first = duplicated[0]
        raise DataError(
            f"The timestamp column {date_col!r} of {source} has {duplicated.size} duplicated "
            f"timestamp(s); the first is {dates[first]} at {where(first)}. Each "
            "timestamp must appear once: aggregate or drop the duplicates in a copy of the file."
        )
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        row = backwards[0] + 1
        raise DataError(
            f"The timestamps in {date_col!r} of {source} are not in increasing order: "
            f"{dates[row]} at {where(row)} comes after {dates[row - 1]} "
            f"({backwards.size} such place(s)). Sort a copy of the file by time first."
        )


def _describe_gaps(dates, step, date_col, source, freq_text, where):
    diffs = dates[1:] - dates[:-1]
    bad = np.flatnonzero(np.asarray(diffs != step))
    if bad.size == 0:
        return None
    row = bad[0] + 1
    return DataError(
        f"The timestamps in {date_col!r} of {source} are not evenly spaced: the series steps "
        f"{freq_text}, but {bad.size} of {len(diffs)} steps differ; the first is at "
        f"{where(row)}, {dates[row - 1]} -> {dates[row]} ({diffs[bad[0]]}). Forecasting needs "
        "one row per step: add the missing timestamps (empty values can then be filled with "
        "--fill) or resample a copy of the file, or set the frequency with --freq."
    )


def parse_freq(freq):
    """The pandas offset of a frequency alias, or `DataError`."""
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError) as err:
        raise DataError(
            f"--freq {freq!r} is not a pandas frequency; use an alias such as 'h', "
            "'30min', 'D', 'W', 'MS'."
        ) from err


def check_spacing(dates, freq, date_col, source, where=None):
    """Returns the pandas frequency alias of `dates`, or raises if the spacing is irregular."""
    where = where or (lambda row: f"CSV line {_line(row)}")
    if freq is not None:
        offset = parse_freq(freq)
        expected = pd.date_range(dates[0], periods=len(dates), freq=offset)
        if not expected.equals(dates):
            mismatch = int(np.flatnonzero(expected != dates)[0])
            raise DataError(
                f"The timestamps in {date_col!r} of {source} do not follow the frequency "
                f"{freq!r}: {where(mismatch)} has {dates[mismatch]} where "
                f"{expected[mismatch]} was expected. Fix the timestamps or choose another --freq."
            )
        return offset.freqstr
    inferred = pd.infer_freq(dates) if len(dates) >= 3 else None
    if inferred is not None:
        return inferred
    diffs = pd.Series(dates[1:] - dates[:-1])
    step = diffs.mode().iloc[0] if len(diffs) else pd.Timedelta(0)
    error = _describe_gaps(dates, step, date_col, source, f"every {step}", where)
    if error is None:
        error = DataError(
            f"The frequency of the timestamps in {date_col!r} of {source} could not be "
            "inferred (too few rows or an irregular calendar). Set it with --freq."
        )
    raise error


def _is_numeric(column):
    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _numeric(frame, columns, source, date_col, id_col=None, future_cols=()):
    bad = [c for c in columns if not _is_numeric(frame[c])]
    if bad:
        numeric = [c for c in frame.columns if c not in (date_col, id_col) and _is_numeric(frame[c])]
        examples = "; ".join(f"{c!r} has {frame[c].dropna().iloc[0]!r}" for c in bad if frame[c].notna().any())
        which = "Future column(s)" if all(c in future_cols for c in bad) else "Column(s)"
        raise DataError(
            f"{which} {', '.join(map(repr, bad))} of {source} are not numeric"
            + (f" ({examples})" if examples else "")
            + ". Forecasting uses numeric columns only; choose them with --columns / --future-cols "
            f"(numeric columns here: {', '.join(map(repr, numeric)) or 'none'}), or fix the values."
        )
    return frame[list(columns)].astype("float64")


def _fill(values, dates, fill, source, where):
    missing = values.isna().to_numpy()
    if not missing.any():
        return values
    if fill is None:
        parts = []
        for j, column in enumerate(values.columns):
            rows = np.flatnonzero(missing[:, j])
            if rows.size:
                parts.append(f"{rows.size} in {column!r} (first at {where(rows[0])}, {dates[rows[0]]})")
        raise DataError(
            f"{source} has {int(missing.sum())} missing value(s): {'; '.join(parts)}. Fill them "
            "in a copy of the file, or accept them with --fill ffill (repeat the previous value) "
            "or --fill interpolate (straight line between neighbours)."
        )
    if fill not in FILLS:
        raise DataError(f"--fill must be one of {', '.join(FILLS)}, got {fill!r}.")
    if fill == "ffill":
        filled = values.ffill().bfill()
    else:
        filled = values.interpolate(method="linear", limit_direction="both")
    if filled.isna().to_numpy().any():
        empty = [c for c in values.columns if values[c].isna().all()]
        raise DataError(
            f"Column(s) {', '.join(map(repr, empty))} of {source} have no values at all, so "
            f"--fill {fill} cannot fill them. Choose other columns with --columns."
        )
    return filled


def _check_column(frame, column, source, option, date_col, id_col, what):
    if column not in frame.columns or column in (date_col, id_col):
        raise DataError(
            f"The {what} {column!r} is not in {source}. Its columns are: "
            f"{', '.join(map(repr, frame.columns))}. Choose it with {option}."
        )


def _freq_of(group_freqs, date_col, source):
    """The one frequency shared by every series, or `DataError` listing them."""
    distinct = {}
    for label, freq in group_freqs:
        distinct.setdefault(freq, []).append(label)
    if len(distinct) > 1:
        listed = "; ".join(f"every {freq}: {_listing(labels, 3)}" for freq, labels in distinct.items())
        raise DataError(
            f"The series of {source} have {len(distinct)} different frequencies ({listed}). One "
            "model needs one frequency: resample them to a common one in a copy of the file, or "
            "forecast each group separately."
        )
    return next(iter(distinct))


def load_panel(data, *, date_col=None, id_col=None, columns=None, target=None, future_cols=(),
               fill=None, freq=None, tz="UTC", name=None):
    """Reads and checks a wide or long table of series: timestamps and numeric columns.

    Args:
        data: a CSV path (read only) or a pandas DataFrame (not modified).
        date_col: the timestamp column; by default one named date/datetime/timestamp/time/ds.
        id_col: the series-id column of a long table; None for one wide series.
        columns: the value columns to use; by default every column but the timestamps and ids.
        target: a column that must be present and numeric (added to `columns` if absent). Rows
            after a series' last value of `target` are its future rows (see the module).
        future_cols: columns known ahead (added to `columns` if absent); must be numeric.
        fill: None to refuse missing values, or "ffill" / "interpolate" to fill them.
        freq: a pandas frequency alias; by default inferred from the timestamps.
        tz: time zone that timezone-aware timestamps are converted to (then made naive).
        name: how to call the data in messages; by default the path.

    Returns:
        A `Panel`. Raises `DataError` for any problem the user can fix.
    """
    if isinstance(data, pd.DataFrame):
        source = name or "the DataFrame"
        frame = data
        if frame.empty:
            raise DataError(f"{source} has no rows.")
        rows = _Rows(frame, csv=False)
    elif isinstance(data, (str, os.PathLike)):
        source = name or repr(os.fspath(data))
        frame = read_csv(data)
        rows = _Rows(frame, csv=True)
    else:
        raise DataError(f"Expected a CSV path or a pandas DataFrame, got {type(data).__name__}.")
    date_col = _pick_date_col(frame, date_col, source)
    if id_col is not None:
        if id_col not in frame.columns or id_col == date_col:
            raise DataError(
                f"The series-id column {id_col!r} is not in {source}. Its columns are: "
                f"{', '.join(map(repr, frame.columns))}. Name it with --id-col."
            )
    future_cols = list(future_cols or ())
    for column in future_cols:
        if column not in frame.columns or column in (date_col, id_col):
            raise DataError(
                f"The future column {column!r} (--future-cols) is not in {source}. Its columns "
                f"are: {', '.join(map(repr, frame.columns))}. A future column holds values known "
                "ahead, filled on the forecast steps' rows."
            )
    others = [c for c in frame.columns if c not in (date_col, id_col)]
    if columns is None:
        columns = others
    else:
        columns = list(columns)
        unknown = [c for c in columns if c not in others]
        if unknown:
            raise DataError(
                f"Column(s) {', '.join(map(repr, unknown))} are not value columns of {source}. "
                f"Its columns are: {', '.join(map(repr, frame.columns))} (timestamps in {date_col!r}"
                + (f", series ids in {id_col!r}" if id_col is not None else "") + ")."
            )
    if target is not None:
        _check_column(frame, target, source, "--target", date_col, id_col, "target column")
        if target not in columns:
            columns = columns + [target]
    for column in future_cols:
        if column not in columns:
            columns = columns + [column]
    if not columns:
        raise DataError(f"{source} has no value columns besides the timestamps {date_col!r}.")
    values = _numeric(frame, columns, source, date_col, id_col, future_cols)
    dates = _parse_dates(frame[date_col], date_col, source, tz, rows)

    if id_col is None:
        groups = [(None, np.arange(len(frame)))]
    else:
        ids = frame[id_col]
        missing = np.flatnonzero(ids.isna().to_numpy())
        if missing.size:
            raise DataError(
                f"The series-id column {id_col!r} of {source} has {missing.size} empty value(s), "
                f"at {rows.many(missing)}. Every row needs a series id."
            )
        codes, uniques = pd.factorize(ids, sort=False)
        groups = [(_plain(uniques[k]), np.flatnonzero(codes == k)) for k in range(len(uniques))]

    parts = []
    for sid, positions in groups:
        where = lambda i, positions=positions: rows(positions[i])  # noqa: E731
        label = source if sid is None else f"series {sid!r} of {source}"
        Label = source if sid is None else f"Series {sid!r} of {source}"
        s_dates = dates[positions]
        _check_order(s_dates, date_col, label, where)
        s_values = values.iloc[positions].reset_index(drop=True)
        if target is not None:
            observed = np.flatnonzero(s_values[target].notna().to_numpy())
            if observed.size == 0:
                raise DataError(
                    f"{Label} has no value of the target {target!r} at all; "
                    "a series needs observed targets before its forecast steps."
                )
            stop = int(observed[-1]) + 1
        else:
            stop = len(positions)
        s_freq = None
        if freq is not None or len(s_dates) >= 3:
            s_freq = check_spacing(s_dates, freq, date_col, label, where)
        history = _fill(s_values.iloc[:stop], s_dates[:stop], fill, Label, where)
        matrix = history.to_numpy()
        infinite = ~np.isfinite(matrix)
        if infinite.any():
            row, col = np.argwhere(infinite)[0]
            raise DataError(
                f"{Label} has {int(infinite.sum())} infinite value(s); the "
                f"first is in {columns[col]!r} at {where(row)}. Replace them in a copy of the file."
            )
        parts.append((sid, s_dates, matrix, s_values.iloc[stop:].to_numpy(), stop, s_freq, label, where))

    known = [(p[0] if p[0] is not None else "the series", p[5]) for p in parts if p[5] is not None]
    if not known:
        raise DataError(
            f"The frequency of the timestamps in {date_col!r} of {source} could not be inferred "
            "(fewer than 3 rows per series). Set it with --freq."
        )
    common = _freq_of(known, date_col, source)
    series = []
    for sid, s_dates, matrix, future, stop, s_freq, label, where in parts:
        if s_freq is None and len(s_dates) > 1:
            check_spacing(s_dates, common, date_col, label, where)
        series.append(Series(
            dates=s_dates[:stop], values=matrix, columns=list(columns), freq=common, source=label,
            date_col=date_col, id=sid, future_dates=s_dates[stop:], future_values=future,
        ))
    return Panel(series=series, columns=list(columns), freq=common, source=source, date_col=date_col,
                 id_col=id_col, target=target, future_cols=future_cols)


def _plain(value):
    """A series id as a plain Python value (JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


def load_series(path, *, date_col=None, columns=None, target=None, fill=None, freq=None, tz="UTC", name=None):
    """Reads and checks a CSV: one timestamp column and numeric columns, evenly spaced.

    Args:
        path: the CSV file (read only), or a DataFrame.
        date_col: the timestamp column; by default one named date/datetime/timestamp/time/ds.
        columns: the value columns to use; by default every column but the timestamps.
        target: a column that must be present and numeric (added to `columns` if absent).
        fill: None to refuse missing values, or "ffill" / "interpolate" to fill them.
        freq: a pandas frequency alias; by default inferred from the timestamps.
        tz: time zone that timezone-aware timestamps are converted to (then made naive).
        name: how to call the data in messages; by default the path.

    Returns:
        A `Series`. Raises `DataError` for any problem the user can fix.
    """
    panel = load_panel(path, date_col=date_col, columns=columns, target=target, fill=fill, freq=freq,
                       tz=tz, name=name)
    return panel.series[0]
