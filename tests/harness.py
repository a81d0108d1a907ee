"""The shared layer-test harness: every layer goes through the same checks.

A layer joins by adding a `Case` to `CASES` in `tests/cases.py`; the checks
themselves live in `tests/test_layer_harness.py`.
"""

import dataclasses
from typing import Callable

import keras
import numpy as np


@dataclasses.dataclass
class Case:
    """How to make one layer configuration and feed it.

    Attributes:
        id: the test id.
        make: `make(**kwargs)` returns a fresh layer; kwargs are extra layer
            arguments such as `dtype`.
        inputs: `inputs(rng)` returns the positional inputs as numpy arrays.
        output_shape: the expected output shape.
        weights: expected number of weights (trainable or not) once built;
            `None` to skip the check.
    """

    id: str
    make: Callable
    inputs: Callable
    output_shape: tuple
    weights: int | None = None


def numpy_inputs(case, seed=0):
    return tuple(case.inputs(np.random.default_rng(seed)))


def functional_model(layer, arrays):
    """A functional model `inputs -> layer`, with a free batch axis."""
    inputs = [keras.Input(shape=a.shape[1:], dtype=str(a.dtype)) for a in arrays]
    return keras.Model(inputs, layer(*inputs))


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)
