"""Quantile levels: the one check every probabilistic piece shares.

A probabilistic forecast here is a set of quantile levels `q_1 < ... < q_k`,
each in the open interval `(0, 1)`. The median `0.5` may or may not be
among them; central intervals are the pairs `(q, 1 - q)`, whose nominal
coverage is `1 - 2 q` (e.g. 0.1 and 0.9: an 80 % interval).

No Keras and no pandas here: the data and calibration code import it
without loading a backend.

>>> check_quantiles([0.1, 0.5, 0.9])
(0.1, 0.5, 0.9)
>>> central_pairs((0.1, 0.25, 0.5, 0.75, 0.9))
((0, 4), (1, 3))
>>> level_name(0.1, 0.9)
'0.8'
"""

import math
import numbers

import numpy as np


def check_quantiles(quantiles):
    """Returns `quantiles` as a tuple of floats, or raises.

    Args:
        quantiles: a sequence (list, tuple, 1-D array) of at least one real
            number, each in `(0, 1)` exclusive, sorted ascending, no repeats;
            booleans and strings are refused.

    Raises:
        TypeError: not a sequence, or an item that is not a real number.
        ValueError: empty, an item outside `(0, 1)` (NaN included), or not
            strictly increasing. Every message names `quantiles` and quotes
            the values given.

    >>> check_quantiles((0.5, 0.1))
    Traceback (most recent call last):
    ...
    ValueError: `quantiles` must be sorted, distinct values in (0, 1), got (0.5, 0.1)
    """
    if isinstance(quantiles, (str, bytes)) or not hasattr(quantiles, "__iter__"):
        raise TypeError(f"`quantiles` must be a sequence of numbers in (0, 1), got {quantiles!r}")
    if isinstance(quantiles, np.ndarray) and quantiles.ndim != 1:
        raise TypeError(f"`quantiles` must be a 1-D sequence of numbers in (0, 1), got shape {quantiles.shape}")
    values = tuple(quantiles.tolist() if isinstance(quantiles, np.ndarray) else quantiles)
    if not values:
        raise ValueError(f"`quantiles` must hold at least one value in (0, 1), got {quantiles!r}")
    for q in values:
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, numbers.Real):
            raise TypeError(f"`quantiles` must be numbers in (0, 1), got {values!r} (item {q!r})")
    shown = tuple(float(q) for q in values)
    if not all(0.0 < q < 1.0 for q in shown):  # NaN fails too
        raise ValueError(f"`quantiles` must be sorted, distinct values in (0, 1), got {shown!r}")
    if any(b <= a for a, b in zip(shown, shown[1:])):
        raise ValueError(f"`quantiles` must be sorted, distinct values in (0, 1), got {shown!r}")
    return shown


def central_pairs(quantiles):
    """Index pairs `(i, j)` of `quantiles` (checked) with `q_i + q_j = 1` and `q_i < 0.5`, outermost first.

    Each pair is a central interval of nominal coverage `q_j - q_i`;
    levels without a partner (e.g. 0.2 alone) belong to none.
    """
    quantiles = check_quantiles(quantiles)
    pairs = []
    for i, lo in enumerate(quantiles):
        if lo >= 0.5:
            break
        j = next((j for j, hi in enumerate(quantiles) if math.isclose(lo + hi, 1.0, abs_tol=1e-9)), None)
        if j is not None:
            pairs.append((i, j))
    return tuple(pairs)


def level_name(lo, hi):
    """The nominal coverage `hi - lo` of a central interval as a short string: 0.1, 0.9 -> "0.8"."""
    return f"{round(hi - lo, 6):g}"


def median_index(quantiles):
    """The index of 0.5 in `quantiles` (checked), or `None` when 0.5 is not among them."""
    return next((i for i, q in enumerate(check_quantiles(quantiles)) if q == 0.5), None)


__all__ = ["check_quantiles", "central_pairs", "level_name", "median_index"]
