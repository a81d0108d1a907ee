"""How kerasfactory compiles a forecaster for gradient training: Adam, a loss, and the
backend's fast `compile` settings.

Most forecasters here are small (a few thousand to a few hundred thousand
weights): a training step is a few milliseconds of arithmetic, and the fixed
cost of each trip through Keras's `fit`/`predict` loop (callbacks, logs) is a
large share of it. On JAX, `steps_per_execution=STEPS_PER_EXECUTION` runs that
many compiled steps per trip. TensorFlow keeps Keras's default of one: its
`predict` builds one graph of `steps_per_execution` unrolled steps, and a
TimeMixer's first `predict` then took 28 s to compile instead of 2.5.
The PyTorch backend runs eagerly and accepts only one. The training is the
same batch for batch; per-batch callbacks (`on_train_batch_end`) are called
once per trip. `docs/benchmarks.md` has the measurements behind the choice.

Example:
>>> from kerasfactory.models import build_model
>>> model = compile_model(build_model("dlinear", seq_len=96, pred_len=24, n_vars=7, mark_dim=4), learning_rate=1e-3)
>>> model.steps_per_execution == compile_options()["steps_per_execution"]
True
"""

import keras

STEPS_PER_EXECUTION = 16


def compile_options():
    """The settings kerasfactory adds on the current Keras backend: `{"steps_per_execution": N}`."""
    return {"steps_per_execution": STEPS_PER_EXECUTION if keras.backend.backend() == "jax" else 1}


def compile_model(model, *, learning_rate=1e-3, loss="mse", metrics=None, **options):
    """Compiles `model` with Adam(`learning_rate`), `loss`, `metrics` and `options` (any
    `keras.Model.compile` argument), then applies `compile_options()` where `options` does not
    set them. Returns `model`.

    `steps_per_execution` is set on the compiled model rather than passed to `compile`, so the
    compile settings a `.keras` file records stay Keras's defaults and the file runs as well on
    every backend (the PyTorch backend refuses a recorded `steps_per_execution` above 1).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=metrics,
                  **options)
    for name, value in compile_options().items():
        if name not in options:
            setattr(model, name, value)
    return model
