"""The base of every kerasfactory layer: input dtypes checked before Keras converts them."""

import functools
import inspect

import keras

from kerasfactory.layers import checks


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
            checks.numeric(name, value)
        return super().__call__(*args, **kwargs)
