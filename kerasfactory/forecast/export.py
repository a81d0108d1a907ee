"""`kerasfactory.export` and `kerasfactory export`: a forecaster's network as ONNX, SavedModel or LiteRT.

The exported network is the Keras model of `model.keras`: named inputs `x`, `x_mark` and, as it
was built, `y_mark`, `x_future`, `future_mask`; one output `output_0`; values scaled per series
with the scalers in `forecaster.json` (docs/deploy.md shows the mapping). Bad arguments are
reported before any backend loads, and the artifact appears at `path` only once it is complete.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile
import zipfile

from kerasfactory.forecast.forecaster import MODEL_FILE, Forecaster, UsageError

FORMATS = {"onnx": "model.onnx", "saved_model": "saved_model", "litert": "model.tflite"}  # default names
INPUTS = ("x", "x_mark", "y_mark", "x_future", "future_mask")
EXTRAS = {"onnx": "onnx", "saved_model": "tensorflow", "litert": "litert"}
SUFFIXES = {"onnx": ".onnx", "saved_model": "", "litert": ".tflite"}


def export(model, format, path=None, *, batch_size=None, check=True):
    """Writes a forecaster's Keras network as `format` for serving without Keras.

    Args:
        model: a `keras.Model` built by `kerasfactory.models` (or loaded from a `model.keras`), a
            fitted `Forecaster`, or the path of a `model.keras` (or of the run folder holding one).
        format: "onnx" (run with onnxruntime), "saved_model" (TensorFlow) or "litert" (`.tflite`).
        path: where to write (default for a path `model`: `model.onnx`, `saved_model/` or
            `model.tflite` beside it). A file there is replaced; a SavedModel folder too.
        batch_size: None (default) for any batch size, or a fixed one.
        check: run the artifact once in its runtime (when installed) on a random batch and
            raise unless it gives Keras' output (to 1e-4 of the output's size).

    Returns:
        The path written.

    Raises:
        UsageError (a ValueError): a bad argument, a format this backend cannot write, a missing
            converter, or an artifact the converter could not make or that fails the check.
        TypeError: `model` is none of the above.

    Example:
        >>> kerasfactory.export("runs/load/model.keras", "onnx")  # doctest: +SKIP
        'runs/load/model.onnx'
    """
    if format not in FORMATS:
        raise UsageError(f"`format` must be one of {', '.join(FORMATS)}, got {format!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise UsageError(f"`batch_size` must be None or a positive integer, got {batch_size!r}.")
    if isinstance(model, (str, os.PathLike)):
        file = os.path.join(model, MODEL_FILE) if os.path.isdir(model) else os.fspath(model)
        _check_names(_file_inputs(file), repr(file))
        path = os.path.join(os.path.dirname(os.path.abspath(file)), FORMATS[format]) if path is None else path
    elif path is None:
        raise UsageError("`path` is needed to export a model held in memory, got None.")
    path = os.fspath(path)
    if os.path.isdir(path) and (format != "saved_model" or not os.path.isfile(os.path.join(path, "saved_model.pb"))):
        raise UsageError(f"`path` must be a new folder or a SavedModel to replace, got {path!r}, a folder without "
                         "saved_model.pb." if format == "saved_model" else
                         f"`path` must be a file path for the {format} export, got {path!r}, a folder.")
    _check_backend(format)
    model = _keras_model(model)
    signature = _signature(model, batch_size)
    with _staging(path, format) as tmp:
        from kerasfactory.forecast import converters

        try:
            converters.convert(model, format, tmp, signature)
        except Exception as err:  # a converter's gap: the message, not its traceback
            why = str(err).strip().split("\n")[0][:300]
            raise UsageError(
                f"The {format} converter failed on this model ({type(err).__name__}: {why})"
                + (" (with a variable batch; try `batch_size`, --batch-size)" if batch_size is None else "")
                + "; nothing was written."
            ) from err
        if check:
            _verify(model, format, tmp, signature)
    return path


def _file_inputs(file):
    """The input names of a `.keras` file, read from its config without loading a backend."""
    if not os.path.isfile(file):
        raise UsageError(f"`model` must be a model.keras file or a run folder holding one; {file!r} does not exist.")
    try:
        with zipfile.ZipFile(file) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise UsageError(f"`model` must be a Keras model file (.keras); {file!r} is not one ({err}).") from None
    layers = config.get("config", {}).get("input_layers") or []
    layers = [layers] if layers and isinstance(layers[0], str) else layers
    return tuple(layer[0] for layer in layers)


def _check_names(names, source):
    if names[:2] != INPUTS[:2] or not set(names[2:]) <= set(INPUTS[2:]):
        raise UsageError(
            f"`model` must be a kerasfactory forecaster, a Keras model with inputs x, x_mark and optionally "
            f"y_mark, x_future, future_mask; got {source} with inputs {', '.join(names) or 'none named'}."
        )


def _check_backend(format):
    import keras

    from kerasfactory.forecast import converters

    backend = keras.backend.backend()
    if (format, backend) in converters.IMPOSSIBLE:
        raise UsageError(
            f"`format` {format!r} cannot be exported on the {backend} backend: "
            f"{converters.IMPOSSIBLE[(format, backend)]}. A model.keras loads on every backend: run "
            "`KERAS_BACKEND=tensorflow kerasfactory export ...` (or export under TensorFlow in Python)."
        )
    if (format, backend) not in converters.NEEDS:
        raise UsageError(f"`format` {format!r} cannot be exported on the {backend} backend.")
    missing = converters.missing_modules(format, backend)
    if missing:
        raise UsageError(f"Exporting {format} on the {backend} backend needs {', '.join(missing)}: "
                         f"pip install 'kerasfactory[{EXTRAS[format]}]'.")


def _keras_model(model):
    import keras

    import kerasfactory.models  # noqa: F401  (registers the layers for loading)

    if isinstance(model, Forecaster):
        model._require("export", data=False)
        model = model._model()
    elif isinstance(model, (str, os.PathLike)):
        file = os.path.join(model, MODEL_FILE) if os.path.isdir(model) else os.fspath(model)
        try:
            model = keras.saving.load_model(file)
        except Exception as err:  # a damaged file, or layers that are not kerasfactory's
            raise UsageError(f"`model` {file!r} could not be loaded: {str(err).strip().splitlines()[0][:300]}") from err
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, a Forecaster or the path of a model.keras, got "
                        f"{type(model).__name__}.")
    _check_names(tuple(t.name for t in getattr(model, "inputs", None) or ()), f"the model {model.name!r}")
    return model


def _signature(model, batch_size):
    import keras

    return [keras.InputSpec(shape=(batch_size, *t.shape[1:]), dtype=t.dtype, name=t.name) for t in model.inputs]


def _verify(model, format, path, signature):
    import numpy as np

    from kerasfactory.forecast import converters

    rng = np.random.default_rng(0)
    batch = signature[0].shape[0] or 3  # 3: neither 1 nor the 2 traced with
    inputs = {  # marks and masks as small integers: valid timeF values and table indices alike
        s.name: (rng.normal(size=(batch, *s.shape[1:])) if s.name in ("x", "x_future") else
                 rng.integers(0, 2, (batch, *s.shape[1:]))).astype(s.dtype) for s in signature}
    got = converters.run(format, path, inputs)
    if got is None:
        return
    want = np.asarray(model.predict([inputs[s.name] for s in signature], verbose=0, batch_size=batch))
    gap = float(np.max(np.abs(np.asarray(got) - want))) if np.shape(got) == want.shape else np.inf
    if not gap <= 1e-4 * max(1.0, float(np.max(np.abs(want)))):
        raise UsageError(f"The {format} export does not reproduce the Keras model (largest difference {gap:.3g}, "
                         f"output shape {np.shape(got)} for {want.shape}); nothing was written.")


@contextlib.contextmanager
def _staging(path, format):
    """Yields a temporary path beside `path`; on success the artifact replaces `path` in one step
    (a SavedModel folder there is moved aside first); on failure nothing is left, new folders neither."""
    path = os.path.abspath(path)
    parent = created = os.path.dirname(path)
    while not os.path.exists(os.path.dirname(created)):
        created = os.path.dirname(created)
    created = None if os.path.exists(parent) else created
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.export-", dir=parent)
    artifact, old = os.path.join(tmp, "artifact" + SUFFIXES[format]), os.path.join(tmp, "old")
    try:
        yield artifact
        if os.path.isdir(path):
            os.replace(path, old)
        try:
            os.replace(artifact, path)
        except OSError:
            if os.path.isdir(old):
                os.replace(old, path)
            raise
    except BaseException:
        if created:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_export(args, stdout=None):
    """`kerasfactory export`: `export` of a saved run's model.keras, and one line on what was written."""
    path = export(args.model, args.format, args.out, batch_size=args.batch_size)
    file = os.path.join(args.model, MODEL_FILE) if os.path.isdir(args.model) else args.model
    settings = [n for n in ("forecaster.json", "config.json") if os.path.isfile(os.path.join(os.path.dirname(
        os.path.abspath(file)), n))]
    print(f"Wrote {path}: inputs {', '.join(_file_inputs(file))} (batch {args.batch_size or 'any'}), output "
          f"output_0, in the scaled units of the scalers in {settings[0] if settings else 'the run'} "
          "(docs/deploy.md).", file=stdout or sys.stdout)
    return path
