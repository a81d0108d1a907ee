"""Frequency strings: Time-Series-Library codes and the pandas aliases that map to them.

Pure Python (no pandas, no Keras), so layers and `kerasfactory.time_features` share one table
and importing the time features or the data package loads no backend.
The eight Time-Series-Library codes are `'h'` hourly, `'t'` minutely, `'s'` secondly,
`'d'` daily, `'b'` business-daily, `'w'` weekly, `'m'` monthly and `'a'` yearly;
`FREQ_WIDTH` is the number of timeF features each one has.
"""

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
