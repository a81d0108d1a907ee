"""Saves the `.keras` files that `tests/test_saved_files.py` loads: run once per release, per backend.

    KERAS_BACKEND=jax PYTHONPATH=<checkout of that release> python tests/saved/make_files.py tests/saved/v0.2.0

Writes `<backend>_every_layer.keras` (the model of `tests/test_cross_backend.py`, every public
layer, random weights) and `<backend>_<forecaster>.keras` for each small forecaster, each with
its predictions on fixed inputs as `.npy`.
"""

import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.test_cross_backend import every_layer_model, inputs, randomized  # noqa: E402

FORECASTERS = {
    "transformer": {"d_model": 8, "d_ff": 8, "n_heads": 2},
    "itransformer": {"d_model": 8, "d_ff": 8, "n_heads": 2},
    "patchtst": {"d_model": 8, "d_ff": 8, "n_heads": 2, "patch_len": 4, "stride": 4},
    "linear": {},
}


def forecaster_inputs():
    rng = np.random.default_rng(2)
    hours = np.arange(12)[None, :, None] / 23 - 0.5
    timef = np.concatenate([np.broadcast_to(hours, (2, 12, 1)), rng.random((2, 12, 3)) - 0.5], -1)
    return [(rng.standard_normal((2, 12, 3)) * 3 + 1).astype("float32"), timef.astype("float32")]


def main(folder):
    from kerasfactory.models import build_model

    os.makedirs(folder, exist_ok=True)
    backend = keras.backend.backend()
    models = {"every_layer": (every_layer_model, inputs())}
    for name, hparams in FORECASTERS.items():
        make = lambda name=name, hparams=hparams: build_model(  # noqa: E731
            name, seq_len=12, pred_len=4, n_vars=3, mark_dim=4, freq="h", seed=0, **hparams)
        models[name] = (make, forecaster_inputs())
    for name, (make, x) in models.items():
        keras.utils.set_random_seed(0)
        model = make()
        model.set_weights(randomized(model.get_weights()))
        model.save(os.path.join(folder, f"{backend}_{name}.keras"))
        np.save(os.path.join(folder, f"{backend}_{name}.npy"), model.predict(x, verbose=0))


if __name__ == "__main__":
    main(sys.argv[1])
