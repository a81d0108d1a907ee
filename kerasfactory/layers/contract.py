"""Matrix products that stay in float64 under a float64 policy.

Keras 3.15's torch `matmul` and `tensordot` compute float64 operands in float32
and return float32 (their result dtype comes from `result_type`, which maps
64-bit types to 32-bit; keras-team/keras#23704), and so does a float64 `Dense`
there. `einsum` keeps float64 on every backend; it is slower than `tensordot`
on eager JAX, so it serves float64 only. Every layer's contraction of its
inputs with its weights goes through here, which is also where a backend's
faster form of the same product is chosen (`dense` on TensorFlow).
"""

import functools
import string

import keras
from keras import ops


@functools.lru_cache
def _wide(dtype):
    # Cached: `standardize_dtype` costs ~6 us on JAX's dtypes, ~1 % of an eager TokenEmbedding call.
    return keras.backend.standardize_dtype(dtype) == "float64"


def tensordot(a, b, axes):
    """`ops.tensordot(a, b, axes)` for an int `axes`; in `a`'s dtype when that is float64."""
    if not _wide(a.dtype):
        return ops.tensordot(a, b, axes)
    rank = len(a.shape)
    left = string.ascii_letters[:rank]
    right = left[rank - axes :] + string.ascii_letters[rank : rank + len(b.shape) - axes]
    return ops.einsum(f"{left},{right}->{left[: rank - axes]}{right[axes:]}", a, b)


def matmul(a, b):
    """`ops.matmul(a, b)` for a 2-D `b`; in `a`'s dtype when that is float64."""
    if not _wide(a.dtype):
        return ops.matmul(a, b)
    return tensordot(a, b, 1)


def dense(layer, x):
    """`layer(x)` for a `keras.layers.Dense` without activation; in float64, its weights applied here.

    The layer's own call otherwise (on TensorFlow, on `x` flattened to 2-D),
    so that what Keras does to a Dense (`Model.quantize`, LoRA) still applies.
    """
    if _wide(x.dtype) and layer.quantization_mode is None:
        y = tensordot(x, layer.kernel, 1)
        return y if layer.bias is None else ops.add(y, layer.bias)
    if keras.backend.backend() != "tensorflow" or len(x.shape) <= 2:
        return layer(x)
    # Keras's TensorFlow matmul runs an input of rank > 2 through `tf.tensordot`
    # (a dozen eager ops); flattened to 2-D it is one `tf.matmul`, and there a
    # reshape is free. (Not on JAX, where an eager reshape copies the output.)
    shape = ops.shape(x)
    y = layer(ops.reshape(x, (-1, shape[-1])))
    return ops.reshape(y, (*shape[:-1], layer.units))
