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
    "TensorFlow scales with tf.distribute instead (docs/behaviour.md: Scaling beyond one machine)",
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


def test_last_batch_splits_over_devices_by_dropping_or_padding():
    from kerasfactory.data.windows import WindowDataset

    values = np.arange(40, dtype="float32")[:, None]  # 40 - 4 - 2 + 1 = 35 windows
    make = lambda: WindowDataset(values, np.zeros((40, 1)), 4, 2, [0], [0], batch_size=8)  # noqa: E731
    last = lambda ds: ds[len(ds) - 1][1][:, 0, 0] - 4  # noqa: E731 - each window's start
    assert len(make()) == 5 and len(last(make())) == 3
    dropped = make().split_over(2)
    assert len(dropped) == 5 and list(last(dropped)) == [32, 33]
    padded = make().split_over(2, pad=True)
    assert len(padded) == 5 and list(last(padded)) == [32, 33, 34, 34]
    assert len(make().split_over(4)) == 4  # 3 windows left over: too few for 4 devices, dropped
    with pytest.raises(ValueError, match="`batch_size` must be a multiple of the 3 devices, got 8"):
        make().split_over(3)


@jax_only
def test_forecast_data_parallel_runs_end_to_end_over_two_devices_and_scores_every_test_window(tmp_path):
    from tests.test_forecast_cli import forecast_argv, series_frame

    root = pathlib.Path(__file__).resolve().parents[1]
    csv = tmp_path / "load.csv"
    series_frame().to_csv(csv, index=False)
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    argv = forecast_argv(csv, tmp_path / "out", "--data-parallel")
    proc = subprocess.run(
        [sys.executable, "-m", "kerasfactory", *argv], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    # 720 rows, 0.7/0.1/0.2: the test split is rows 576..720 with 48 steps of look-back, 12 ahead.
    assert metrics["test_windows"] == 720 - 576 - 12 + 1
    model, last = metrics["metrics"]["model"], metrics["metrics"]["repeat last value"]
    assert np.isfinite(model["mse_scaled"]) and model["mse_scaled"] < last["mse_scaled"]


if __name__ == "__main__":
    one, _ = trajectory(1)
    two, placed = trajectory(2)
    print(json.dumps({"devices": len(keras.distribution.list_devices()), "placed": placed, "one": one, "two": two}))
