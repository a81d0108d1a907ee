"""Reading a CSV of timestamps and numeric columns, and refusing bad input clearly.

Every problem a user can fix raises `DataError` with one paragraph that says what is
wrong, where, and what to do. The file is only read, never written.
"""

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kerasfactory.data.errors import DataError

FILLS = ("ffill", "interpolate")
_DATE_NAMES = ("date", "datetime", "timestamp", "time", "ds")
_MAX_LISTED = 5


@dataclass
class Series:
    """A regular multivariate series: `values[t, j]` is column `columns[j]` at `dates[t]`."""

    dates: pd.DatetimeIndex
    values: np.ndarray
    columns: list
    freq: str
    source: str
    date_col: str = "date"


def _listing(items, limit=_MAX_LISTED):
    items = list(items)
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


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


def _parse_dates(raw, date_col, source, tz):
    try:
        dates = pd.to_datetime(raw, format="mixed")
    except (ValueError, TypeError, OverflowError) as err:
        raise DataError(
            f"The timestamp column {date_col!r} of {source} could not be parsed as dates "
            f"({err}). Use ISO timestamps such as 2016-07-01 00:00:00, or name another "
            "column with --date-col."
        ) from err
    missing = np.flatnonzero(dates.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"The timestamp column {date_col!r} of {source} has {missing.size} empty "
            f"value(s), at CSV line(s) {_listing(_line(r) for r in missing)}. Every row needs "
            "a timestamp."
        )
    dates = pd.DatetimeIndex(dates)
    if dates.tz is not None:
        # Aware timestamps become naive wall-clock times in `tz`, so that spacing stays regular.
        dates = dates.tz_convert(tz).tz_localize(None)
    return dates


def _check_order(dates, date_col, source):
    duplicated = np.flatnonzero(np.asarray(dates.duplicated()))
    if duplicated.size:
        first = duplicated[0]
        raise DataError(
            f"The timestamp column {date_col!r} of {source} has {duplicated.size} duplicated "
            f"timestamp(s); the first is {dates[first]} at CSV line {_line(first)}. Each "
            "timestamp must appear once: aggregate or drop the duplicates in a copy of the file."
        )
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        row = backwards[0] + 1
        raise DataError(
            f"The timestamps in {date_col!r} of {source} are not in increasing order: "
            f"{dates[row]} at CSV line {_line(row)} comes after {dates[row - 1]} "
            f"({backwards.size} such place(s)). Sort a copy of the file by time first."
        )


def _describe_gaps(dates, step, date_col, source, freq_text):
    diffs = dates[1:] - dates[:-1]
    bad = np.flatnonzero(np.asarray(diffs != step))
    if bad.size == 0:
        return None
    row = bad[0] + 1
    return DataError(
        f"The timestamps in {date_col!r} of {source} are not evenly spaced: the series steps "
        f"{freq_text}, but {bad.size} of {len(diffs)} steps differ; the first is at CSV line "
        f"{_line(row)}, {dates[row - 1]} -> {dates[row]} ({diffs[bad[0]]}). Forecasting needs "
        "one row per step: add the missing timestamps (empty values can then be filled with "
        "--fill) or resample a copy of the file, or set the frequency with --freq."
    )


def check_spacing(dates, freq, date_col, source):
    """Returns the pandas frequency alias of `dates`, or raises if the spacing is irregular."""
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except (ValueError, TypeError) as err:
            raise DataError(
                f"--freq {freq!r} is not a pandas frequency; use an alias such as 'h', "
                "'30min', 'D', 'W', 'MS'."
            ) from err
        expected = pd.date_range(dates[0], periods=len(dates), freq=offset)
        if not expected.equals(dates):
            mismatch = int(np.flatnonzero(expected != dates)[0])
            raise DataError(
                f"The timestamps in {date_col!r} of {source} do not follow the frequency "
                f"{freq!r}: CSV line {_line(mismatch)} has {dates[mismatch]} where "
                f"{expected[mismatch]} was expected. Fix the timestamps or choose another --freq."
            )
        return offset.freqstr
    inferred = pd.infer_freq(dates) if len(dates) >= 3 else None
    if inferred is not None:
        return inferred
    diffs = pd.Series(dates[1:] - dates[:-1])
    step = diffs.mode().iloc[0] if len(diffs) else pd.Timedelta(0)
    error = _describe_gaps(dates, step, date_col, source, f"every {step}")
    if error is None:
        error = DataError(
            f"The frequency of the timestamps in {date_col!r} of {source} could not be "
            "inferred (too few rows or an irregular calendar). Set it with --freq."
        )
    raise error


def _numeric(frame, columns, source, date_col):
    bad = [c for c in columns if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if bad:
        numeric = [
            c for c in frame.columns
            if c != date_col and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
        ]
        examples = "; ".join(f"{c!r} has {frame[c].dropna().iloc[0]!r}" for c in bad if frame[c].notna().any())
        raise DataError(
            f"Column(s) {', '.join(map(repr, bad))} of {source} are not numeric"
            + (f" ({examples})" if examples else "")
            + ". Forecasting uses numeric columns only; choose them with --columns (numeric "
            f"columns here: {', '.join(map(repr, numeric)) or 'none'}), or fix the values."
        )
    return frame[list(columns)].astype("float64")


def _fill(values, dates, fill, source):
    missing = values.isna().to_numpy()
    if not missing.any():
        return values
    if fill is None:
        where = []
        for j, column in enumerate(values.columns):
            rows = np.flatnonzero(missing[:, j])
            if rows.size:
                where.append(
                    f"{rows.size} in {column!r} (first at CSV line {_line(rows[0])}, {dates[rows[0]]})"
                )
        raise DataError(
            f"{source} has {int(missing.sum())} missing value(s): {'; '.join(where)}. Fill them "
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


def load_series(path, *, date_col=None, columns=None, target=None, fill=None, freq=None, tz="UTC", name=None):
    """Reads and checks a CSV: one timestamp column and numeric columns, evenly spaced.

    Args:
        path: the CSV file (read only).
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
    source = name or repr(os.fspath(path))
    frame = read_csv(path)
    date_col = _pick_date_col(frame, date_col, source)
    others = [c for c in frame.columns if c != date_col]
    if columns is None:
        columns = others
    else:
        columns = list(columns)
        unknown = [c for c in columns if c not in frame.columns or c == date_col]
        if unknown:
            raise DataError(
                f"Column(s) {', '.join(map(repr, unknown))} are not value columns of {source}. "
                f"Its columns are: {', '.join(map(repr, frame.columns))} (timestamps in {date_col!r})."
            )
    if target is not None:
        if target not in frame.columns or target == date_col:
            raise DataError(
                f"The target column {target!r} is not in {source}. Its columns are: "
                f"{', '.join(map(repr, frame.columns))}. Choose the target with --target."
            )
        if target not in columns:
            columns = columns + [target]
    if not columns:
        raise DataError(f"{source} has no value columns besides the timestamps {date_col!r}.")
    values = _numeric(frame, columns, source, date_col)
    dates = _parse_dates(frame[date_col], date_col, source, tz)
    _check_order(dates, date_col, source)
    freq = check_spacing(dates, freq, date_col, source)
    values = _fill(values, dates, fill, source)
    infinite = ~np.isfinite(values.to_numpy())
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(
            f"{source} has {int(infinite.sum())} infinite value(s); the first is in "
            f"{columns[col]!r} at CSV line {_line(row)}. Replace them in a copy of the file."
        )
    return Series(dates=dates, values=values.to_numpy(), columns=list(columns), freq=freq, source=source,
                  date_col=date_col)
