"""A `keras.layers.Dense` applied in float64 under a float64 policy, on every backend.

Keras 3.15's torch `matmul` computes float64 operands in float32 (its result
dtype comes from `result_type`, which maps 64-bit types to 32-bit;
keras-team/keras#23704), and so does a float64 `Dense` there: its output is
float64 but only float32-accurate. `einsum` keeps float64 on every backend, so
under a float64 policy the Dense's weights are applied here; otherwise the
layer's own call runs, so that what Keras does to a Dense (`Model.quantize`,
LoRA) still applies. `Conv1D` and `Embedding` keep float64 and need no help.
"""

import keras
from keras import ops


def dense(layer, x):
    """`layer(x)` for a `keras.layers.Dense` without activation, exact in float64."""
    if keras.backend.standardize_dtype(x.dtype) != "float64" or layer.quantization_mode is not None:
        return layer(x)
    y = ops.einsum("...i,io->...o", x, layer.kernel)
    return y if layer.bias is None else ops.add(y, layer.bias)
