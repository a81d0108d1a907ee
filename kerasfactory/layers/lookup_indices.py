"""Lookup indices for the calendar tables: integer casting and the out-of-range policy.

One place decides what an index outside `[0, size)` means, the same on every backend, eagerly
and compiled, and never NaN (`jnp.take` fills such rows with NaN; TensorFlow and PyTorch raise).
"""

import keras
import numpy as np
from keras import ops

from kerasfactory.layers.validation import concrete

OUT_OF_RANGE = ("wrap", "clip", "error")

# Floats are clipped to this before the integer cast so the cast is defined on
# every backend (float32 holds it exactly; it is far outside any table).
_FLOAT_LIMIT = 2.0**30


def is_integer(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    return dtype.startswith(("int", "uint")) or dtype == "bool"


def _first(mask):
    return tuple(int(i) for i in np.argwhere(mask)[0])


def to_int32(name, x):
    """Casts integer or integral-float indices to int32.

    Non-integral (or NaN/inf) floats raise a `ValueError` when the values are
    concrete (one boolean is read back; the whole input only to report the
    error); in traced code NaN/inf become 0 and other floats are truncated
    toward zero, as `torch.Tensor.long()` does.
    """
    if is_integer(x):
        return ops.cast(x, "int32")
    finite = ops.isfinite(x)
    if concrete(ops.any(ops.logical_or(ops.logical_not(finite), ops.not_equal(x, ops.round(x))))):
        value = concrete(x)
        where = _first(~np.isfinite(value) | (value != np.round(value)))
        raise ValueError(
            f"`{name}` must hold integral values, got {value[where].item()!r} at index {where}"
        )
    x = ops.where(finite, x, ops.zeros_like(x))
    x = ops.clip(x, -_FLOAT_LIMIT, _FLOAT_LIMIT)
    return ops.cast(x, "int32")


def check_range(name, x, sizes, labels=None):
    """Raises a `ValueError` for the first value of `x` outside `[0, size)`, when concrete.

    `x` is int32 `(..., n)`: column `j` must lie in `[0, sizes[j])`; `labels[j]`
    (e.g. "'month' (column 0)") names it in the message. One flag per column is
    read back; the whole input only to report the error. In traced code
    nothing is checked.
    """
    outside = ops.logical_or(ops.less(x, 0), ops.greater_equal(x, np.asarray(sizes, "int32")))
    flags = concrete(ops.any(ops.reshape(outside, (-1, len(sizes))), axis=0))
    if flags is None or not flags.any():
        return
    column = int(np.argmax(flags))
    value = concrete(x)[..., column]
    size = sizes[column]
    where = _first((value < 0) | (value >= size))
    what = f"`{name}`" if labels is None else f"`{name}` field {labels[column]}"
    raise ValueError(
        f"{what} must be in [0, {size - 1}], got {value[where].item()!r} at index {where}"
    )


def apply_policy(indices, size, out_of_range):
    """Maps int32 `indices` into `[0, size)`: modulo for "wrap", clip otherwise.

    `size` is an int, or an int32 array broadcasting against `indices` (a size
    per column).

    "error" clips here: its check runs beforehand on concrete values, and in
    traced code (where values cannot be checked) clipping keeps outputs finite.
    """
    if out_of_range == "wrap":
        return ops.mod(indices, size)
    return ops.minimum(ops.maximum(indices, 0), size - 1)

