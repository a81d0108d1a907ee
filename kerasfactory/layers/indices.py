"""Lookup indices for the calendar tables: integer casting and the out-of-range policy.

One place decides what an index outside `[0, size)` means, so that every backend
gives the same answer eagerly and inside compiled functions, and never NaN
(`jnp.take` would fill out-of-range rows with NaN; TensorFlow and PyTorch raise
backend errors).
"""

import keras
import numpy as np
from keras import ops

OUT_OF_RANGE = ("wrap", "clip", "error")

# Floats are clipped to this before the integer cast so the cast is defined on
# every backend (float32 holds it exactly; it is far outside any table).
_FLOAT_LIMIT = 2.0**30


def concrete(x):
    """Returns `x` as numpy when its values exist now, or `None` when it is symbolic.

    Values are symbolic while Keras traces a function (`jax.jit`,
    `tf.function`, the functional API's shape inference); there they cannot be
    inspected, so value checks are skipped.
    """
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except (TypeError, ValueError, NotImplementedError, RuntimeError, AttributeError):
        return None


def is_integer(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    return dtype.startswith(("int", "uint")) or dtype == "bool"


def to_int32(name, x):
    """Casts integer or integral-float indices to int32.

    Non-integral (or NaN/inf) floats raise a `ValueError` when the values are
    concrete; in traced code NaN/inf become 0 and other floats are truncated
    toward zero, as `torch.Tensor.long()` does.
    """
    if is_integer(x):
        return ops.cast(x, "int32")
    value = concrete(x)
    if value is not None:
        bad = ~np.isfinite(value) | (value != np.round(value))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"`{name}` must hold integral values, got {value[where].item()!r} at index {where}"
            )
    x = ops.where(ops.isfinite(x), x, ops.zeros_like(x))
    x = ops.clip(x, -_FLOAT_LIMIT, _FLOAT_LIMIT)
    return ops.cast(x, "int32")


def check_range(name, value, size, field=None):
    """Raises a `ValueError` if concrete numpy `value` leaves `[0, size)`.

    `field` (e.g. "'month' (column 0)") names the part of `name` checked.
    """
    bad = (value < 0) | (value >= size)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        what = f"`{name}`" if field is None else f"`{name}` field {field}"
        raise ValueError(
            f"{what} must be in [0, {size - 1}], got {value[where].item()!r} at index {where}"
        )


def apply_policy(indices, size, out_of_range):
    """Maps int32 `indices` into `[0, size)`: modulo for "wrap", clip otherwise.

    "error" clips here: its check runs beforehand on concrete values, and in
    traced code (where values cannot be checked) clipping keeps outputs finite.
    """
    if out_of_range == "wrap":
        return ops.mod(indices, size)
    return ops.clip(indices, 0, size - 1)
