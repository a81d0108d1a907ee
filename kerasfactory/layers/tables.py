"""Backend tensors of constant tables (sinusoids, gather steps), made once per shape and shared."""

import keras
import numpy as np
from keras import ops

from kerasfactory.layers.checks import traced


def constant(table, dtype):
    """A fresh backend tensor of the numpy `table`, cast to `dtype`.

    A copy, so that no backend tensor aliases a shared read-only table.
    """
    return ops.cast(ops.convert_to_tensor(np.array(table)), dtype)


_LOOKUP_TABLES = {}


def lookup_table(key, make, dtype, like):
    """`constant(make(), dtype)` made once and reused, for layers that only read from it.

    Each eager conversion of a numpy table is a copy and one or more backend
    ops per call. `key` names the content (`make`'s arguments). A tensor made
    while tracing (a `tf.function` graph tensor, a JAX tracer) is not kept. On
    PyTorch the key includes the device of `like`, the tensor the table will
    meet; JAX and TensorFlow move constants where they are used. Never returned
    to users, so no caller can change it in place.
    """
    device = str(like.device) if keras.backend.backend() == "torch" else None
    key = (key, dtype, device)
    table = _LOOKUP_TABLES.get(key)
    if table is None:
        table = constant(make(), dtype)
        if not traced(table):
            if len(_LOOKUP_TABLES) >= 64:
                _LOOKUP_TABLES.clear()
            _LOOKUP_TABLES[key] = table
    return table
