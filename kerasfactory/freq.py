"""Frequency strings: Time-Series-Library codes and the pandas aliases that map to them.

Pure Python (no pandas, no Keras), so layers and `kerasfactory.time_features` share one table
and importing the time features or the data package loads no backend.
The eight Time-Series-Library codes are `'h'` hourly, `'t'` minutely, `'s'` secondly,
`'d'` daily, `'b'` business-daily, `'w'` weekly, `'m'` monthly and `'a'` yearly;
`FREQ_WIDTH` is the number of timeF features each one has.
`minute_step` and `mark_fields` say which integer calendar marks a frequency has
(`kerasfactory.time_features.marks`, `kerasfactory.layers.TemporalEmbedding`).
"""

import numbers
import re

FREQ_WIDTH = {"h": 4, "t": 5, "s": 6, "d": 3, "b": 3, "w": 2, "m": 1, "a": 1}

# Case matters: pandas reads "MS" as month start but "ms" as millisecond, and the
# lowercase single letters are the Time-Series-Library codes ('m' is monthly there).
_ALIASES = {
    **{code: code for code in FREQ_WIDTH},
    "H": "h",
    "min": "t", "T": "t",
    "S": "s",
    "D": "d",
    "B": "b", "C": "b",
    "W": "w",
    **dict.fromkeys(["M", "ME", "MS", "BM", "BME", "BMS", "SM", "SME", "SMS"], "m"),
    **dict.fromkeys(["Q", "QE", "QS", "BQ", "BQE", "BQS"], "m"),
    **dict.fromkeys(["A", "Y", "YE", "YS", "AS", "BA", "BY", "BYE", "BYS", "BAS"], "a"),
}
_TICKS = ("d", "h", "t", "s")  # units pandas may combine, e.g. "1h30min", coarse to fine
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PART = re.compile(r"(\d*)([A-Za-z]+)")


def _supported():
    codes = ", ".join(repr(c) for c in FREQ_WIDTH)
    return (
        f"a Time-Series-Library code ({codes}) or a pandas alias of one "
        "(e.g. 'h', '30min', '15min', 's', 'D', 'B', 'W', 'W-SUN', 'ME', 'MS', 'QE', 'YE')"
    )


def _anchor_ok(base, anchor):
    if base == "W":
        return anchor in _WEEKDAYS
    return base.lstrip("B")[:1] in ("Q", "A", "Y") and anchor in _MONTHS


def normalize_freq(freq):
    """Maps a frequency string to its Time-Series-Library code.

    Accepts the codes themselves (`'h'`, `'t'`, `'s'`, `'d'`, `'b'`, `'w'`,
    `'m'`, `'a'`) and pandas offset aliases with an optional multiple and
    anchor: `'H'`/`'2h'` -> `'h'`; `'min'`/`'T'`/`'15min'`/`'1h30min'` -> `'t'`;
    `'S'`/`'10s'` -> `'s'`; `'D'` -> `'d'`; `'B'`/`'C'` -> `'b'`;
    `'W'`/`'W-SUN'` -> `'w'`; month and quarter aliases (`'M'`, `'ME'`, `'MS'`,
    `'QE'`, `'Q-DEC'`, ...) -> `'m'`; year aliases (`'A'`, `'Y'`, `'YE'`,
    `'YS'`, ...) -> `'a'`. A pandas offset object (anything with `freqstr`)
    is read through its `freqstr`. Lowercase `'m'` is monthly, as in
    Time-Series-Library; minutes are `'t'` or `'min'`.

    Raises:
        ValueError: for anything else (e.g. `'ms'`, milliseconds), listing
            what is supported.
    """
    text = getattr(freq, "freqstr", freq)
    error = ValueError(f"`freq` must be {_supported()}, got {freq!r}")
    if not isinstance(text, str):
        raise error
    base, _, anchor = text.strip().partition("-")
    parts = _PART.findall(base)
    if not parts or "".join(n + u for n, u in parts) != base:
        raise error
    codes = []
    for number, unit in parts:
        if unit not in _ALIASES or number.strip("0") == "" and number:
            raise error
        codes.append(_ALIASES[unit])
    if len(parts) > 1:
        if anchor or not all(c in _TICKS for c in codes) or len(set(codes)) != len(codes):
            raise error
        return max(codes, key=_TICKS.index)
    if anchor and not _anchor_ok(parts[0][1], anchor):
        raise error
    return codes[0]


# The integer mark columns, in the order `kerasfactory.time_features.marks` returns them.
MARK_NAMES = ("month", "day", "weekday", "hour", "minute", "second")
_MINUTES = {"d": 24 * 60, "h": 60, "t": 1}


def minute_step(freq):
    """The data's step in minutes, for minute buckets that follow the data.

    `'5min'` -> 5, `'15min'`/`'15T'` -> 15, `'30min'` -> 30, `'min'`/`'T'`/`'1min'`
    -> 1: a sub-hourly alias whose step (in whole minutes) divides 60. Secondly
    frequencies (`'s'`, `'10s'`) -> 1 (every minute is its own bucket).
    Everything else -> `None`: hourly and coarser, steps that do not divide an
    hour (`'7min'`, `'1h30min'`), and the Time-Series-Library code `'t'` itself,
    which keeps its 15-minute buckets.

    Raises:
        ValueError: for an unsupported `freq` (see `normalize_freq`).

    Example:
    >>> minute_step("5min"), minute_step("t"), minute_step("h"), minute_step("s")
    (5, None, None, 1)
    """
    code = normalize_freq(freq)
    if code == "s":
        return 1
    text = getattr(freq, "freqstr", freq).strip()
    if code != "t" or text == "t":
        return None
    minutes = sum(int(n or 1) * _MINUTES[_ALIASES[unit]] for n, unit in _PART.findall(text))
    return minutes if 60 % minutes == 0 else None


def mark_fields(freq):
    """The standard mark fields of `freq`: `(name, table size)` in mark-column order.

    `[("month", 13), ("day", 32), ("weekday", 7), ("hour", 24)]` for hourly
    and coarser data; minutely data adds `("minute", 60 // minute_step(freq))`
    (`'5min'` -> 12 buckets, `'min'` -> 60, and 4 quarter-hours for `'t'`
    and steps that do not divide an hour, as Time-Series-Library); secondly
    data adds `("minute", 60), ("second", 60)`.

    Example:
    >>> mark_fields("5min")[-1], len(mark_fields("h")), mark_fields("s")[-2:]
    (('minute', 12), 4, [('minute', 60), ('second', 60)])
    """
    code = normalize_freq(freq)
    fields = [("month", 13), ("day", 32), ("weekday", 7), ("hour", 24)]
    if code == "t":
        step = minute_step(freq)
        fields.append(("minute", 60 // step if step else 4))
    elif code == "s":
        fields += [("minute", 60), ("second", 60)]
    return fields


def reference_mark_fields(freq):
    """Time-Series-Library's mark fields of `freq`: a 4-row minute table for `'t'` codes only, no second.

    The fields of a `TemporalEmbedding` saved before its config held them.
    """
    fields = [("month", 13), ("day", 32), ("weekday", 7), ("hour", 24), ("minute", 4)]
    return fields if normalize_freq(freq) == "t" else fields[:4]


def check_fields(name, value, standard=False):
    """`value` (None or `(name, table size)` pairs) as a tuple of pairs, or raises naming `name`.

    `standard=True`: the standard mark fields, `MARK_NAMES` in order (at least
    4); otherwise extra fields: distinct identifiers other than `MARK_NAMES`.
    """
    pairs = [] if value is None else value
    if not isinstance(pairs, (list, tuple)):
        raise ValueError(f"`{name}` must be a list of (name, table size) pairs, got {value!r}")
    out = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"`{name}` must be a list of (name, table size) pairs, got {pair!r} at position {i}")
        field, size = pair
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
            raise ValueError(f"`{name}` table size of {field!r} must be a positive integer, got {size!r}")
        out.append((field, int(size)))
    names = [f for f, _ in out]
    if standard and (not 4 <= len(names) <= 6 or names != list(MARK_NAMES[: len(names)])):
        raise ValueError(f"`{name}` must name the standard marks {list(MARK_NAMES)} in order (at least 4), got {names}")
    for field in names if not standard else ():
        if not field.isidentifier():
            raise ValueError(f"`{name}` names must be Python identifiers, got {field!r}")
        if field in MARK_NAMES:
            raise ValueError(f"`{name}` names must not be a standard mark {list(MARK_NAMES)}, got {field!r}")
        if names.count(field) > 1:
            raise ValueError(f"`{name}` names must be distinct, got {field!r} {names.count(field)} times")
    return tuple(out)
