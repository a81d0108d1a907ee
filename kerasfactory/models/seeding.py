"""Seeding Keras's global random state without loading TensorFlow on the other backends."""

import random
import sys

import keras
import numpy as np

from kerasfactory.layers import validation


def set_random_seed(seed):
    """`keras.utils.set_random_seed(seed)` that loads TensorFlow only on the TensorFlow backend.

    Keras's own seeds TensorFlow whenever it is installed, importing it on JAX and PyTorch too:
    about 450 MB more per process, for a seed that only `tf.data` reads (kerasfactory's data
    pipelines draw from NumPy). This one seeds the same state otherwise: Python's `random`,
    NumPy's global generator, Keras's global seed generator (the initial weights of layers given
    no seed) and, on PyTorch, torch's. Where TensorFlow is the backend or already loaded, or
    Keras's internals have moved, it is `keras.utils.set_random_seed`.
    """
    seed = validation.seed("seed", seed)  # the same error on every backend and path
    if seed is None:
        raise ValueError("`seed` must be a non-negative integer, got None")
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        return keras.utils.set_random_seed(seed)
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:
        return keras.utils.set_random_seed(seed)
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
