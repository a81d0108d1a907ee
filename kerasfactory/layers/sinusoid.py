"""The one copy of the sinusoid formula, shared by every fixed embedding."""

import functools
import math

import numpy as np


def sinusoid_table(rows, d_model):
    """Returns the sinusoid table `(rows, d_model)` as float32 numpy.

    `pe[p, 2i] = sin(p / 10000^(2i/d_model))`,
    `pe[p, 2i+1] = cos(p / 10000^(2i/d_model))`.

    Exponents, frequencies and angles are float32 values as in the PyTorch
    reference (Vaswani et al., 2017; Time-Series-Library `Embed.py`); each
    `exp`, `sin` and `cos` is taken in float64 and rounded once, so every
    entry is the correctly rounded float32 of the float32 angle. An odd
    `d_model` ends in a sine column.
    """
    exponent = np.arange(0, d_model, 2, dtype=np.float32) * np.float32(-math.log(10000.0) / d_model)
    div = np.exp(exponent.astype(np.float64)).astype(np.float32)
    angles = (np.arange(rows, dtype=np.float32)[:, None] * div).astype(np.float64)
    table = np.empty((rows, d_model), dtype=np.float32)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table


@functools.lru_cache(maxsize=64)
def shared_table(rows, d_model):
    """`sinusoid_table(rows, d_model)` computed once and shared read-only by every layer."""
    table = sinusoid_table(rows, d_model)
    table.flags.writeable = False
    return table
