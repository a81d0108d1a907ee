"""`.keras` files saved by earlier releases load with the predictions they were saved with.

`tests/saved/<release>/` holds, per backend, the every-layer model of `test_cross_backend.py`
and each small forecaster, saved by that release (`tests/saved/make_files.py`) with its
predictions. Each run of the suite loads all of them on its own backend.
"""

import pathlib

import keras
import numpy as np
import pytest

import kerasfactory.models  # noqa: F401  (registers the layers and models)
from tests.saved.make_files import forecaster_inputs
from tests.test_cross_backend import inputs

FILES = sorted((pathlib.Path(__file__).parent / "saved").glob("*/*.keras"))


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_file_saved_by_an_earlier_release_loads_with_its_predictions(path):
    model = keras.saving.load_model(path)
    x = inputs() if path.stem.endswith("every_layer") else forecaster_inputs()
    expected = np.load(path.with_suffix(".npy"))
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_every_release_folder_holds_files_from_each_backend():
    assert FILES
    for folder in {p.parent for p in FILES}:
        assert {p.stem.split("_")[0] for p in folder.glob("*.keras")} == {"jax", "tensorflow", "torch"}
