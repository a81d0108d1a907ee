"""From checked series to scaled train/validation/test windows.

One series or many (a long table): each series is split chronologically on its own
(same fractions), scaled by a scaler fitted on its own training rows, and cut into
windows that never cross into another series; the windows of every series are pooled
into one dataset per split, for one global model.
"""

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from kerasfactory.data.errors import DataError
from kerasfactory.data.loading import Panel, read_csv
from kerasfactory.data.splits import DEFAULT_FRACTIONS, SPLIT_NAMES, split_borders
from kerasfactory.time_features import calendar, holiday_features

FEATURES = ("M", "S", "MS")
HOLIDAYS_HELP = "list the valid codes with `kerasfactory holidays` (or `kerasfactory holidays AU` for one country)"


def feature_columns(columns, target, features):
    """Input and output column names for `features` M (all->all), S (target->target), MS (all->target)."""
    if features not in FEATURES:
        raise DataError(f"--features must be one of {', '.join(FEATURES)}, got {features!r}.")
    if features == "S":
        return [target], [target]
    if features == "MS":
        return list(columns), [target]
    return list(columns), list(columns)


def read_events(events):
    """The events table (a CSV path or a DataFrame) as a DataFrame of strings, or `DataError`."""
    if events is None:
        return None
    if isinstance(events, pd.DataFrame):
        frame = events.copy()
    elif isinstance(events, (str, os.PathLike)):
        if not os.path.isfile(events):
            raise DataError(f"The events file {os.fspath(events)!r} (--events) does not exist or is not a file.")
        frame = read_csv(events)
    elif isinstance(events, (list, tuple)):  # records, as saved in forecaster.json
        frame = pd.DataFrame(list(events))
    else:
        raise DataError(f"--events must be a CSV path or a DataFrame, got {type(events).__name__}.")
    columns = [str(c) for c in frame.columns]
    if "event" not in columns or ("date" not in columns and not {"start", "end"} <= set(columns)):
        raise DataError(
            f"The events table needs an 'event' column and either 'date' or 'start' and 'end' "
            f"columns; its columns are: {', '.join(map(repr, columns))}."
        )
    frame.columns = columns
    if frame.empty:
        raise DataError("The events table (--events) has no rows.")
    keep = [c for c in ("event", "date", "start", "end") if c in columns]
    # Strings, as saved with the model, so that fit and a reloaded predict read the same table.
    return pd.DataFrame({c: [None if pd.isna(v) else str(v) for v in frame[c]] for c in keep}, dtype=object)


def marks_for(dates, freq, holidays=None, events=None):
    """Calendar marks `(T, mark_dim)` in float32 for `dates` at `freq`: timeF features, then
    holiday columns (with `holidays`, a code such as "AU-VIC") and event indicators
    (with `events`, a table; see `kerasfactory.time_features.calendar`)."""
    return calendar_for(dates, freq, holidays, events)[0]


def calendar_for(dates, freq, holidays=None, events=None):
    """`(marks, spec)` as `marks_for`, with every calendar problem as a `DataError`."""
    try:
        array, spec = calendar(dates, freq, holidays=holidays, events=events)
    except ValueError as err:
        if holidays is not None and "holidays" in str(err) and "`events`" not in str(err):
            raise DataError(f"Unknown holiday code --holidays {holidays!r}: {err}; {HOLIDAYS_HELP}.") from err
        if events is not None and "`events`" in str(err):
            raise DataError(f"The events table (--events) is not usable: {err}.") from err
        raise DataError(f"Calendar features for frequency {freq!r} could not be made: {err}.") from err
    except ImportError as err:
        raise DataError(f"{err}.") from err
    return np.asarray(array, dtype="float32"), spec


def holiday_flags(dates, code):
    """True where `dates` fall on a public holiday of `code`, or None without a code."""
    if code is None:
        return None
    try:
        return holiday_features(dates, code)[:, 0] > 0.5
    except ValueError as err:
        raise DataError(f"Unknown holiday code --holidays {code!r}: {err}; {HOLIDAYS_HELP}.") from err


@dataclass
class Part:
    """One series, split and scaled: `scaled[t]` holds `ForecastData.used` at `series.dates[t]`."""

    series: object
    scaler: StandardScaler
    borders: dict
    scaled: np.ndarray
    marks: np.ndarray
    holidays: object = None  # bool per row (evaluation on holiday days), or None

    @property
    def id(self):
        return self.series.id


@dataclass
class ForecastData:
    """Everything a forecaster needs from one or more series, split and scaled.

    Attributes:
        panel: the loaded `Panel`; `parts` its series long enough for one window per split
            (`skipped`: `(id, rows)` of the others).
        inputs, outputs: column names fed to and predicted by the model; `future` the
            columns also fed at the forecast steps (known ahead); `used` the columns each
            scaler covers (inputs first).
        target: the target column's name; `target_output` is its index in `outputs`.
        target_index: index of the target among `inputs` when the model predicts it alone
            (features "MS"), else None.
        datasets: `{split: WindowDataset}` pooling every series' windows; only "train" shuffles.
        mark_dim, mark_names: calendar columns per step; `future_marks`: the forecast steps'
            marks are a model input.
        holidays, events: the calendar options (code, events table or None).
    """

    panel: Panel
    parts: list
    skipped: list
    features: str
    inputs: list
    outputs: list
    future: list
    used: list
    target: str
    target_index: object
    target_output: int
    seq_len: int
    pred_len: int
    datasets: dict
    mark_dim: int
    mark_names: list
    future_marks: bool = True
    holidays: object = None
    events: object = None
    split: object = DEFAULT_FRACTIONS
    eval_holidays: object = None
    extra: dict = field(default_factory=dict)

    @property
    def freq(self):
        return self.panel.freq

    @property
    def series(self):
        """The first (or only) series."""
        return self.parts[0].series

    @property
    def scaler(self):
        """The first (or only) series' scaler."""
        return self.parts[0].scaler

    @property
    def borders(self):
        """The first (or only) series' borders."""
        return self.parts[0].borders

    @property
    def long(self):
        return self.panel.id_col is not None

    def target_scale(self, part=0):
        """(mean, std) of the target in original units, for series `part`."""
        j = self.used.index(self.target)
        scaler = self.parts[part].scaler
        return float(scaler.mean_[j]), float(scaler.scale_[j])

    def target_scales(self, split):
        """(mean, std) of the target per window of `split`, each window's own series'."""
        which = self.datasets[split].window_segments
        pairs = np.array([self.target_scale(k) for k in range(len(self.parts))])
        return pairs[which, 0], pairs[which, 1]

    def window_parts(self, split):
        """Index into `parts` of each window of `split`, in the datasets' time order."""
        return self.datasets[split].window_segments

    def window_rows(self, split):
        """Row (in its series) of each window's first predicted step."""
        ds = self.datasets[split]
        starts = np.array([self.parts[k].borders[split][0] for k in range(len(self.parts))])
        return starts[ds.window_segments] + ds.window_offsets + self.seq_len

    def window_dates(self, split):
        """Timestamps of each window's first predicted step, shape (num_windows,)."""
        rows = self.window_rows(split)
        parts = self.window_parts(split)
        return pd.DatetimeIndex([self.parts[k].series.dates[r] for k, r in zip(parts, rows)])

    def step_dates(self, split):
        """Timestamps of every predicted step, `(num_windows, pred_len)` datetime64."""
        rows = self.window_rows(split)[:, None] + np.arange(self.pred_len)
        parts = self.window_parts(split)
        out = np.empty(rows.shape, dtype="datetime64[ns]")
        for k, part in enumerate(self.parts):
            mask = parts == k
            out[mask] = np.asarray(part.series.dates.values)[rows[mask]]
        return out

    def step_holidays(self, split):
        """True at predicted steps on a holiday of `eval_holidays`, `(num_windows, pred_len)`, or None."""
        if self.eval_holidays is None:
            return None
        rows = self.window_rows(split)[:, None] + np.arange(self.pred_len)
        parts = self.window_parts(split)
        out = np.zeros(rows.shape, dtype=bool)
        for k, part in enumerate(self.parts):
            mask = parts == k
            out[mask] = part.holidays[rows[mask]]
        return out


def _as_panel(data):
    if isinstance(data, Panel):
        return data
    return Panel(series=[data], columns=list(data.columns), freq=data.freq, source=data.source,
                 date_col=data.date_col)


def check_future_cols(future_cols, target, features, columns):
    """Future columns must be inputs and never a predicted column."""
    future_cols = list(future_cols or ())
    if target in future_cols:
        raise DataError(
            f"The target {target!r} cannot be a future column (--future-cols): its values at the "
            "forecast steps are what the model forecasts."
        )
    if future_cols and features == "M":
        raise DataError(
            "--features M forecasts every column, so no column can be given at the forecast steps; "
            "use --features MS (all columns -> the target) with --future-cols."
        )
    duplicated = sorted({c for c in future_cols if future_cols.count(c) > 1})
    if duplicated:
        raise DataError(f"--future-cols names {', '.join(map(repr, duplicated))} more than once.")
    return future_cols


def prepare(data, *, target, features="MS", seq_len=96, pred_len=48, batch_size=32,
            split=DEFAULT_FRACTIONS, seed=0, future_cols=(), holidays=None, events=None,
            future_marks=False, eval_holidays=None):
    """Splits each series chronologically, fits its scaler on its training rows, makes windows.

    Args:
        data: a `Series` or a `Panel` (see `load_panel`).
        target, features, seq_len, pred_len, batch_size, split, seed: as the CLI's options.
        future_cols: columns whose values at the forecast steps are model inputs.
        holidays, events: calendar covariates added to the marks (see `marks_for`).
        future_marks: the windows also yield the forecast steps' marks.
        eval_holidays: a holiday code whose days the test metrics single out (default:
            `holidays`).

    A series of a long table too short for one window in every split is skipped (see
    `ForecastData.skipped`); when none is left, or the data is one series, it is a
    `DataError`.
    """
    from kerasfactory.data.windows import WindowDataset  # imports Keras (see the package)

    panel = _as_panel(data)
    if target not in panel.columns:
        raise DataError(
            f"The target column {target!r} is not among the loaded columns "
            f"{', '.join(map(repr, panel.columns))}. Choose it with --target."
        )
    inputs, outputs = feature_columns(panel.columns, target, features)
    future_cols = check_future_cols(future_cols, target, features, panel.columns)
    missing = [c for c in future_cols if c not in panel.columns]
    if missing:
        raise DataError(f"The future column(s) {', '.join(map(repr, missing))} were not loaded.")
    used = list(inputs) + [c for c in [*outputs, *future_cols] if c not in inputs]
    columns = [panel.columns.index(c) for c in used]
    events = read_events(events)
    eval_holidays = holidays if eval_holidays is None else eval_holidays

    parts, skipped, short_error = [], [], None
    for series in panel.series:
        try:
            borders = split_borders(len(series.dates), seq_len, pred_len, split, panel.freq, series.source)
        except DataError as err:
            if panel.id_col is None:
                raise
            skipped.append((series.id, len(series.dates)))
            short_error = short_error or err
            continue
        raw = series.values[:, columns]
        scaler = StandardScaler().fit(raw[borders["train"][0]:borders["train"][1]])
        scaled = scaler.transform(raw).astype("float32")
        marks, spec = calendar_for(series.dates, panel.freq, holidays, events)
        flags = holiday_flags(series.dates, eval_holidays)
        parts.append(Part(series, scaler, borders, scaled, marks, flags))
    if not parts:
        listing = ", ".join(f"{sid!r} ({rows} rows)" for sid, rows in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        raise DataError(
            f"Every series of {panel.source} is too short for one window of seq_len={seq_len} "
            f"inputs and pred_len={pred_len} targets in each split: {listing}{more}. "
            + str(short_error).split(". ", 1)[-1]
        )

    index = {c: used.index(c) for c in used}
    datasets = {}
    for name in SPLIT_NAMES:
        values = [p.scaled[p.borders[name][0]:p.borders[name][1]] for p in parts]
        marks = [p.marks[p.borders[name][0]:p.borders[name][1]] for p in parts]
        datasets[name] = WindowDataset(
            values, marks, seq_len, pred_len, [index[c] for c in inputs], [index[c] for c in outputs],
            batch_size=batch_size, shuffle=name == "train", seed=seed,
            future=[index[c] for c in future_cols], future_marks=future_marks,
        )
    _, spec = calendar_for(parts[0].series.dates[:1], panel.freq, holidays, events)
    return ForecastData(
        panel=panel, parts=parts, skipped=skipped, features=features, inputs=inputs,
        outputs=outputs, future=future_cols, used=used, target=target,
        target_index=inputs.index(target) if features == "MS" else None,
        target_output=outputs.index(target), seq_len=seq_len, pred_len=pred_len,
        datasets=datasets, mark_dim=int(parts[0].marks.shape[1]), mark_names=list(spec["names"]),
        future_marks=bool(future_marks), holidays=holidays, events=events, split=split,
        eval_holidays=eval_holidays,
    )
