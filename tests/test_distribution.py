"""Data-parallel training with `keras.distribution.DataParallel` (JAX).

A subprocess with `XLA_FLAGS=--xla_force_host_platform_device_count=2` sees two
virtual CPU devices; it trains the same seeded forecaster on the same batches
once on one device and once with `DataParallel` over both, and the per-batch
loss trajectories agree within float32 tolerance. `keras.distribution` is
JAX-only in Keras 3, so the test runs in the JAX run of the suite.
"""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution (DataParallel) is implemented for the JAX backend only in Keras 3; "
    "TensorFlow scales with tf.distribute instead (README: Scaling beyond one machine)",
)


def trajectory(devices):
    """Per-batch training losses of a seeded iTransformer on `devices` devices."""
    from kerasfactory.models import build_model

    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=keras.distribution.list_devices()[:devices]) if devices > 1 else None
    )
    model = build_model(
        "itransformer", seq_len=16, pred_len=4, n_vars=3, mark_dim=4, seed=7,
        d_model=16, n_heads=2, n_layers=1, d_ff=16, dropout=0.0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16, 3)).astype("float32")
    marks = (rng.random((32, 16, 4)) - 0.5).astype("float32")
    y = (x[:, -4:] * 0.5 + 0.1 * rng.standard_normal((32, 4, 3))).astype("float32")
    losses = []
    logger = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"])))
    model.fit([x, marks], y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[logger])
    return losses, len(model.trainable_weights[0].value.sharding.device_set)


@jax_only
def test_data_parallel_on_two_devices_follows_the_one_device_loss_trajectory():
    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_distribution"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["devices"] == result["placed"] == 2  # weights replicated on both devices
    one, two = np.array(result["one"]), np.array(result["two"])
    assert len(one) == len(two) == 12
    assert np.all(np.isfinite(two))
    assert two[-1] < two[0]
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-5)


@jax_only
def test_use_data_parallel_spans_every_visible_device():
    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    code = (
        "import keras; from kerasfactory.forecast.distribute import use_data_parallel; "
        "n = use_data_parallel(8); d = keras.distribution.distribution(); "
        "print(n, type(d).__name__, d.device_mesh.shape)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[:2] == ["2", "DataParallel"]


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="checks the refusal on the other backends")
def test_data_parallel_elsewhere_is_a_usage_error_that_names_jax():
    from kerasfactory.forecast.distribute import DataParallelError, use_data_parallel

    with pytest.raises(DataParallelError, match="needs the JAX backend"):
        use_data_parallel(8)


class _Windows:
    def __init__(self, num_windows, batch_size):
        self.num_windows, self.batch_size = num_windows, batch_size


def test_uneven_last_batches_are_refused_before_training():
    from kerasfactory.forecast.distribute import DataParallelError, check_even_batches

    check_even_batches({"train": _Windows(30, 8), "val": _Windows(16, 8)}, 2)
    with pytest.raises(DataParallelError, match="val split's last batch holds 7 windows"):
        check_even_batches({"train": _Windows(30, 8), "val": _Windows(15, 8)}, 2)


if __name__ == "__main__":
    one, _ = trajectory(1)
    two, placed = trajectory(2)
    print(json.dumps({"devices": len(keras.distribution.list_devices()), "placed": placed, "one": one, "two": two}))
