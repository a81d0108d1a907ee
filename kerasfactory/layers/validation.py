"""Checks of arguments and inputs, and the base layer that runs them.

Every message reads "`name` must be <expected>, got <received>" so that the
same bad input gives the same `ValueError`/`TypeError` on every backend.
"""

import functools
import inspect
import numbers

import keras
import numpy as np


def positive_int(name, value):
    """Returns `value` as an `int`, or raises if it is not a positive integer."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer() and value > 0:
            return int(value)
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


def flag(name, value):
    """Returns `value` as a `bool`, or raises if it is not `True` or `False`."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False, got {value!r}")
    return bool(value)


def non_negative_int(name, value):
    """Returns `value` as an `int`, or raises if it is not an integer >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}")
    return int(value)


def one_of(name, value, allowed):
    """Returns `value` if it is one of `allowed`, else raises naming the choices."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {choices}, got {value!r}")
    return value


def probability(name, value):
    """Returns `value` as a float in [0, 1), else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1), got {value!r}")
    return float(value)


def numeric(name, value):
    """Returns `value` unless it is an array or tensor whose dtype is not float, int or bool."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return value
    try:
        dtype = keras.backend.standardize_dtype(dtype)
    except (ValueError, TypeError):
        dtype = getattr(dtype, "name", str(dtype))
    if dtype != "bool" and not dtype.startswith(("float", "int", "uint", "bfloat")):
        raise TypeError(f"`{name}` must hold floats, integers or booleans, got dtype {dtype}")
    return value


def seed(name, value):
    """Returns `value` as an `int` seed, or `None`; anything else raises."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be None or a non-negative integer, got {value!r}")
    return int(value)


def keras_object(name, value, get, kind):
    """Returns `get(value)` (e.g. `keras.initializers.get`); a value it cannot read raises naming `name`."""
    try:
        return get(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"`{name}` must be a Keras {kind}, its name or its config, got {value!r}") from err


def input_shape(name, shape, rank, last_dim=None, last_name=None):
    """Checks static `shape` (may hold `None`) of input `name`: its `rank`, and its last axis when
    known against `last_dim` (`None`: any), the constructor argument `last_name`; returns it as a tuple."""
    shape = tuple(shape)
    if len(shape) != rank:
        raise ValueError(f"`{name}` must have rank {rank}, got rank {len(shape)} (shape {shape})")
    if last_dim is not None and shape[-1] is not None and shape[-1] != last_dim:
        raise ValueError(
            f"`{name}` last dimension must equal `{last_name}`={last_dim}, got {shape[-1]} (shape {shape})"
        )
    return shape


def concrete(x):
    """`x` as numpy when its values exist now (eager), or `None` when symbolic or traced
    (Keras tensors, JAX tracers, TensorFlow graph tensors, torch "meta" tensors): value checks skip those."""
    if keras.backend.is_keras_tensor(x):
        return None
    try:
        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:  # each backend raises its own type for non-concrete tensors
        return None


def is_concrete(x):
    """True when tensor `x` holds values now; reads back one element, not the whole tensor."""
    return not keras.backend.is_keras_tensor(x) and concrete(keras.ops.reshape(x, (-1,))[:1]) is not None


@functools.cache
def _argument_names(cls):
    return [p for p in inspect.signature(cls.call).parameters if p != "self"]


class Layer(keras.layers.Layer):
    """`keras.layers.Layer` that refuses non-numeric inputs alike on every backend.

    Keras converts numpy inputs to backend tensors before `call` runs, and each
    backend fails its own way on strings, objects or complex numbers (or, on
    JAX, quietly parses numeric strings). Every array argument is checked
    first, by the name it has in `call`.
    """

    def __call__(self, *args, **kwargs):
        for name, value in [*zip(_argument_names(type(self)), args), *kwargs.items()]:
            numeric(name, value)
        return super().__call__(*args, **kwargs)
