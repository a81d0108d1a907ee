"""The one copy of the sinusoid formula, shared by every fixed embedding."""

import math

import numpy as np


def sinusoid_table(rows, d_model):
    """Returns the sinusoid table `(rows, d_model)` as float32 numpy.

    `pe[p, 2i] = sin(p / 10000^(2i/d_model))`,
    `pe[p, 2i+1] = cos(p / 10000^(2i/d_model))`.

    Positions and frequencies are rounded to float32 exactly as the PyTorch
    reference does (Vaswani et al., 2017; Time-Series-Library `Embed.py`), so
    the two tables agree to float32 rounding; the sine and cosine are then
    taken in float64 and rounded once. An odd `d_model` ends in a sine column.
    """
    div = np.exp(
        np.arange(0, d_model, 2, dtype=np.float32)
        * np.float32(-math.log(10000.0) / d_model)
    )
    angles = (np.arange(rows, dtype=np.float32)[:, None] * div).astype(np.float64)
    table = np.empty((rows, d_model), dtype=np.float32)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table
