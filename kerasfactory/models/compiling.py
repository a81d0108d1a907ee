"""How kerasfactory compiles a forecaster for gradient training: Adam, a loss, and the
backend's fast `compile` settings.

Most forecasters here are small (a few thousand to a few hundred thousand
weights): a training step is a few milliseconds of arithmetic, and the fixed
cost of each call from Keras's `fit`/`predict` loop into the compiled step
(callbacks, logs, the call into TensorFlow's runtime) is as large as the
step itself. `steps_per_execution=STEPS_PER_EXECUTION` runs that many batches
per call on JAX and TensorFlow; the PyTorch backend runs eagerly and accepts
only 1. The per-epoch results are the same; per-batch callbacks
(`on_train_batch_end`) are called once per `STEPS_PER_EXECUTION` batches.
`docs/benchmarks.md` has the measurements behind the choice.

Example:
>>> from kerasfactory.models import build_model
>>> model = compile_model(build_model("dlinear", seq_len=96, pred_len=24, n_vars=7, mark_dim=4), learning_rate=1e-3)
>>> model.steps_per_execution == compile_options().get("steps_per_execution", 1)
True
"""

import keras

STEPS_PER_EXECUTION = 16


def compile_options():
    """The settings kerasfactory adds on the current Keras backend: `{"steps_per_execution": N}`."""
    if keras.backend.backend() == "torch":  # Keras runs torch eagerly and refuses steps_per_execution > 1
        return {"steps_per_execution": 1}
    return {"steps_per_execution": STEPS_PER_EXECUTION}


def compile_model(model, *, learning_rate=1e-3, loss="mse", metrics=None, **options):
    """Compiles `model` with Adam(`learning_rate`), `loss`, `metrics` and `options` (any
    `keras.Model.compile` argument), then applies `compile_options()` where `options` does not
    set them. Returns `model`.

    `steps_per_execution` is set on the compiled model rather than passed to `compile`, so the
    compile settings a `.keras` file records stay Keras's defaults and the file runs on every
    backend (the PyTorch backend refuses a recorded `steps_per_execution` above 1).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=metrics,
                  **options)
    for name, value in compile_options().items():
        if name not in options:
            setattr(model, name, value)
    return model
