"""A `.keras` file saved on one backend loads on every other with the same predictions.

The model uses every public layer. A module fixture saves it on each of
TensorFlow, JAX and PyTorch (the two backends other than `KERAS_BACKEND` in
parallel subprocesses running `python -m tests.test_cross_backend DIR`); the
tests then load each file on this process's backend. Each file carries the
saving backend's predictions, so the three backend runs of the suite together
check all 3 x 3 (saver, loader) pairs: weights bit-for-bit, predictions within
1e-4 relative (the backends' float32 kernels sum in different orders).
"""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

BACKENDS = ("tensorflow", "jax", "torch")
SEQ_LEN, N_VARS, PRED_LEN = 12, 3, 4


def every_layer_model():
    """A small functional forecaster in which each public layer takes part."""
    from kerasfactory import layers as L

    x = keras.Input((SEQ_LEN, N_VARS), name="x")
    marks = keras.Input((SEQ_LEN, 4), dtype="int32", name="marks")
    timef = keras.Input((SEQ_LEN, 4), name="timef")
    revin = L.ReversibleInstanceNorm(N_VARS)
    xn, stats = revin(x, return_stats=True)
    d = 8
    parts = [
        L.TokenEmbedding(N_VARS, d, padding="circular")(xn) + L.PositionalEmbedding(SEQ_LEN, d_model=d)(xn),
        L.TemporalEmbedding(d, embed_type="learned")(marks),
        L.TemporalEmbedding(d, embed_type="fixed")(marks),
        L.FixedEmbedding(13, d)(marks[:, :, 0]),
        L.TimeFeatureEmbedding(d)(timef),
        L.DataEmbedding(N_VARS, d, embed_type="learned")(xn, marks),
        L.DataEmbeddingWithoutPosition(N_VARS, d, embed_type="timeF")(xn, timef),
        L.DataEmbeddingInverted(SEQ_LEN, d)(xn, timef),
        L.PatchEmbedding(d, patch_len=4, stride=4)(xn),
    ]
    flat = keras.layers.Concatenate()([keras.layers.Flatten()(p) for p in parts])
    y = keras.layers.Reshape((PRED_LEN, N_VARS))(keras.layers.Dense(PRED_LEN * N_VARS)(flat))
    return keras.Model([x, marks, timef], revin(y, mode="denorm", stats=stats))


def inputs():
    rng = np.random.default_rng(0)
    highs = np.array([13, 32, 7, 24])
    return [
        (rng.standard_normal((2, SEQ_LEN, N_VARS)) * 3 + 1).astype("float32"),
        (rng.random((2, SEQ_LEN, 4)) * highs).astype("int32"),
        (rng.random((2, SEQ_LEN, 4)) - 0.5).astype("float32"),
    ]


def randomized(weights):
    """Random float weights (RevIN starts at ones/zeros), so every weight matters; others as they are.

    Magnitudes in [0.2, 0.5] keep RevIN's inverse (a division by its scale) well conditioned.
    """
    rng = np.random.default_rng(1)
    return [
        (rng.uniform(0.2, 0.5, w.shape) * rng.choice([-1, 1], w.shape)).astype(w.dtype)
        if np.issubdtype(w.dtype, np.floating) else w
        for w in weights
    ]


def save(folder):
    """Saves `<backend>.keras` and its predictions `<backend>.npy` in `folder`."""
    keras.utils.set_random_seed(0)
    model = every_layer_model()
    model.set_weights(randomized(model.get_weights()))
    backend = keras.backend.backend()
    model.save(os.path.join(folder, f"{backend}.keras"))
    np.save(os.path.join(folder, f"{backend}.npy"), model.predict(inputs(), verbose=0))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cross_backend")
    root = pathlib.Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.test_cross_backend", str(folder)], cwd=root,
            env={**os.environ, "KERAS_BACKEND": b, "TF_CPP_MIN_LOG_LEVEL": "3"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for b in BACKENDS
        if b != keras.backend.backend()
    ]
    save(str(folder))
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
    return folder


@pytest.mark.parametrize("saver", BACKENDS)
def test_file_saved_on_each_backend_loads_here_with_identical_predictions(saved, saver):
    import kerasfactory.layers  # noqa: F401  (registers the layers)

    loaded = keras.saving.load_model(saved / f"{saver}.keras")
    reference = np.load(saved / f"{saver}.npy")
    # The weights travel bit for bit; predictions agree to float32 rounding.
    expected = randomized(loaded.get_weights())
    for w, e in zip(loaded.get_weights(), expected):
        np.testing.assert_array_equal(w, e)
    got = loaded.predict(inputs(), verbose=0)
    assert got.shape == (2, PRED_LEN, N_VARS)
    np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


if __name__ == "__main__":
    save(sys.argv[1])
