"""`kerasfactory forecast --data-parallel`: Keras's own data parallelism, not a home-made one.

On JAX, `keras.distribution.DataParallel` over every visible device replicates the
weights and splits each batch along its first axis; gradients are averaged by XLA.
TensorFlow and PyTorch have no `keras.distribution` support in Keras 3 (TensorFlow
users wrap model building in `tf.distribute.MirroredStrategy().scope()` instead;
see the README, "Scaling beyond one machine").
"""


class DataParallelError(ValueError):
    """`--data-parallel` cannot run here; the message says why and what to do."""


def use_data_parallel(batch_size):
    """Sets a `DataParallel` distribution over every visible device; returns their number.

    Every batch must split evenly over the devices, so `batch_size` must be a
    multiple of the device count (see `split_batches` for the last batch).
    """
    import keras

    if keras.backend.backend() != "jax":
        raise DataParallelError(
            f"--data-parallel needs the JAX backend (KERAS_BACKEND=jax); this run uses "
            f"{keras.backend.backend()!r}, where keras.distribution is not available. On TensorFlow, "
            "build and fit the model inside tf.distribute.MirroredStrategy().scope() from Python instead."
        )
    devices = keras.distribution.list_devices()
    if batch_size % len(devices):
        raise DataParallelError(
            f"--batch-size must be a multiple of the {len(devices)} visible devices for --data-parallel, "
            f"got {batch_size}."
        )
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return len(devices)


def split_batches(datasets, devices):
    """Makes every batch of every split divide over `devices`.

    Training and validation drop the last batch's extra windows (fewer than
    `devices` per split and epoch); the test split repeats its last window and
    `score` keeps only the real windows' predictions, so every test window counts.
    """
    for name, dataset in datasets.items():
        dataset.split_over(devices, pad=name == "test")
