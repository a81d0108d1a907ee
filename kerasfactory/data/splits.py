"""Chronological train/validation/test borders, as the forecasting literature draws them."""

import numpy as np
import pandas as pd

from kerasfactory.data.errors import DataError

SPLIT_NAMES = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.7, 0.1, 0.2)
_ETT_MONTHS = (12, 4, 4)
_DAY_NS = 86_400 * 10**9


def parse_split(text):
    """Turns "ett" or "0.7,0.1,0.2" (also with '/') into "ett" or a tuple of fractions."""
    if text is None:
        return DEFAULT_FRACTIONS
    if isinstance(text, (tuple, list)):
        parts = list(text)
    elif str(text).strip().lower() == "ett":
        return "ett"
    else:
        parts = str(text).replace("/", ",").split(",")
    try:
        fractions = tuple(float(p) for p in parts)
    except ValueError:
        fractions = ()
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise DataError(
            f"--split must be 'ett' or three positive fractions summing to 1 such as "
            f"0.7,0.1,0.2, got {text!r}."
        )
    return fractions


def _month_rows(freq):
    """Rows in a 30-day month at `freq` (the ETT loaders' fixed month)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset).value
    except ValueError:
        step = 0
    if step <= 0 or _DAY_NS % step:
        raise DataError(
            f"The ETT split counts 30-day months of rows, which needs a fixed step that divides "
            f"a day; the data's frequency is {freq!r}. Use fractions instead, e.g. --split 0.7,0.1,0.2."
        )
    return 30 * _DAY_NS // step


def split_borders(num_rows, seq_len, pred_len, split=DEFAULT_FRACTIONS, freq=None, source="the data"):
    """Row ranges `{name: (start, stop)}` of each split, inputs' look-back included.

    The training rows are `[0, train_stop)`. Validation and test start `seq_len` rows
    before their own first row, so their first window looks back into the previous split
    (Time-Series-Library's `border1s`/`border2s`). With `split="ett"` the splits are 12/4/4
    months of 30 days and rows past 20 months are unused, as in the ETT protocol.
    Raises `DataError` when a split holds no whole window.
    """
    if split == "ett":
        month = _month_rows(freq)
        train, val, test = (m * month for m in _ETT_MONTHS)
        needed = train + val + test
        if num_rows < needed:
            raise DataError(
                f"{source} has {num_rows} rows, but the ETT split needs 20 months of 30 days = "
                f"{needed} rows at frequency {freq!r}. Use fractions instead, e.g. --split 0.7,0.1,0.2."
            )
    else:
        train = int(num_rows * split[0])
        test = int(num_rows * split[2])
        val = num_rows - train - test
    stops = np.cumsum([train, val, test])
    borders = {
        "train": (0, int(stops[0])),
        "val": (int(stops[0]) - seq_len, int(stops[1])),
        "test": (int(stops[1]) - seq_len, int(stops[2])),
    }
    counts = {k: b - a - seq_len - pred_len + 1 for k, (a, b) in borders.items()}
    if min(counts.values()) < 1 or borders["val"][0] < 0:
        short = [k for k in SPLIT_NAMES if counts[k] < 1 or borders[k][0] < 0]
        needed = _min_rows(seq_len, pred_len, split, num_rows)
        hint = f" (at least {needed} rows)" if needed else ""
        raise DataError(
            f"{source} has {num_rows} rows, too short for one window of seq_len={seq_len} inputs "
            f"and pred_len={pred_len} targets in every split: the {', '.join(short)} split(s) "
            f"hold none with split {split!r}. Use a longer series{hint}, or shorter --seq-len / "
            "--pred-len."
        )
    return borders


def _min_rows(seq_len, pred_len, split, start):
    if split == "ett":
        return None
    for n in range(max(start, 2), start + 100_000):
        train, test = int(n * split[0]), int(n * split[2])
        val = n - train - test
        if min(train - seq_len - pred_len, val - pred_len, test - pred_len) >= 0 and train >= seq_len:
            return n
    return None
