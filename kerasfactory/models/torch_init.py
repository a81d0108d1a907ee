"""PyTorch's default initialisation, applied to a built Keras model (`build_model(init="torch")`).

PyTorch's `nn.Linear` and `nn.Conv1d` draw weights and biases alike from
`U(-1/sqrt(fan_in), 1/sqrt(fan_in))` (`kaiming_uniform_(a=sqrt(5))`), where
Keras' `Dense` draws Glorot-uniform kernels and zero biases. Time-Series-Library's
models are trained from the former; `reinitialise` redraws that way every
Dense and EinsumDense (attention projection) kernel left at Keras' default
Glorot draw, and its bias if left at zeros, from a numpy generator seeded by
`seed`, so the draw is the same on every backend. Weights given their own
initialiser (our embeddings already draw as PyTorch does, zero-initialised
future maps, DLinear's `1 / seq_len`) and normalisation layers (ones and
zeros in both libraries) keep theirs.
"""

import math

import keras
import numpy as np

_ATTENTION_INPUTS = ("query", "key", "value")  # EinsumDense kernels (d_model, heads, head_dim): fan_in d_model


def _fan_in(layer, kernel):
    shape = tuple(kernel.shape)
    if isinstance(layer, keras.layers.EinsumDense) and layer.name in _ATTENTION_INPUTS:
        return shape[0]
    return math.prod(shape[:-1])  # Dense (in, out); Conv (k, in, out); attention output (heads, head_dim, out)


def reinitialise(model, seed=None):
    """Redraws `model`'s default-initialised Dense and EinsumDense weights as PyTorch draws them; returns `model`."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense)):
            continue
        if type(layer.kernel_initializer) is not keras.initializers.GlorotUniform:
            continue
        kernel = layer.kernel
        bound = 1.0 / math.sqrt(max(_fan_in(layer, kernel), 1))
        kernel.assign(rng.uniform(-bound, bound, tuple(kernel.shape)).astype(kernel.dtype))
        bias = getattr(layer, "bias", None)
        if bias is not None and type(layer.bias_initializer) is keras.initializers.Zeros:
            bias.assign(rng.uniform(-bound, bound, tuple(bias.shape)).astype(bias.dtype))
    return model
