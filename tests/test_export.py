"""`kerasfactory.export` / `kerasfactory export`: each format runs in its own runtime and gives Keras'
numbers on every backend that can write it; the rest, and bad input, fail cleanly and write nothing."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

import kerasfactory
from kerasfactory.forecast.cli import main
from kerasfactory.forecast.forecaster import Forecaster, UsageError
from kerasfactory.models import build_model

BACKEND = keras.backend.backend()
# What Keras can write on each backend (docs/deploy.md); the rest must fail with the reason.
WRITES = {"tensorflow": ("onnx", "saved_model", "litert"), "jax": ("onnx", "saved_model"), "torch": ("onnx",)}
NAMES = {"onnx": "m.onnx", "saved_model": "sm", "litert": "m.tflite"}
SEQ, PRED = 24, 6
QUANTILES = (0.1, 0.5, 0.9)


def small(name="rlinear", quantiles=None, **hparams):
    return build_model(name, seq_len=SEQ, pred_len=PRED, n_vars=3, mark_dim=4, future_marks=True, future_dim=1,
                       future_mask=True, target_index=2, seed=1, quantiles=quantiles, **hparams)


MODELS = {  # every input kind; attention, LayerNorm and exact gelu; CycleLinear's table lookups; quantiles
    "rlinear": lambda: small(),
    "itransformer": lambda: small("itransformer", d_model=16, n_heads=2, n_layers=1, d_ff=16),
    "linear": lambda: small("linear"),
    "rlinear_quantiles": lambda: small(quantiles=QUANTILES),
}


def feeds(model, batch):
    rng = np.random.default_rng(batch)
    return {t.name: (rng.normal(size=(batch, *t.shape[1:])) if t.name in ("x", "x_future") else
                     rng.integers(0, 2, (batch, *t.shape[1:]))).astype("float32") for t in model.inputs}


def run(fmt, path, inputs):
    """The artifact in its runtime, as docs/deploy.md shows; (input names, output)."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return [i.name for i in session.get_inputs()], session.run(["output_0"], inputs)[0]
    if fmt == "saved_model":
        import tensorflow as tf

        serve = tf.saved_model.load(path).signatures["serving_default"]
        names = sorted(serve.structured_input_signature[1])
        return names, serve(**{k: tf.constant(v) for k, v in inputs.items()})["output_0"].numpy()
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner("serving_default")
    return sorted(runner.get_input_details()), runner(**inputs)["output_0"]


CASES = [(name, "onnx") for name in MODELS] + [(name, fmt) for fmt in ("saved_model", "litert")
                                               for name in ("rlinear", "itransformer")]


@pytest.mark.parametrize("name, fmt", CASES)
def test_the_artifact_gives_keras_numbers_for_any_batch(tmp_path, name, fmt):
    if (name, fmt, BACKEND) == ("linear", "onnx", "jax"):
        pytest.skip("jax2onnx cannot trace CycleLinear with a variable batch; test_a_fixed_batch_size covers it")
    model, path = MODELS[name](), str(tmp_path / NAMES[fmt])
    if fmt not in WRITES[BACKEND]:
        with pytest.raises(UsageError, match=f"cannot be exported on the {BACKEND} backend.*KERAS_BACKEND=tensorflow"):
            kerasfactory.export(model, fmt, path)
        assert os.listdir(tmp_path) == []
        return
    assert kerasfactory.export(model, fmt, path) == path
    for batch in (1, 3):  # 3: also the batch export checks with
        inputs = feeds(model, batch)
        names, got = run(fmt, path, inputs)
        want = model.predict(list(inputs.values()), verbose=0)
        assert sorted(names) == sorted(t.name for t in model.inputs)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    if fmt == "saved_model":  # a SavedModel folder is replaced; any other folder is refused
        kerasfactory.export(model, fmt, path)
        with pytest.raises(UsageError, match=r"`path` must be a new folder or a SavedModel to replace, got"):
            kerasfactory.export(model, fmt, tmp_path)
    assert sorted(os.listdir(tmp_path)) == [NAMES[fmt]]  # no staging folder left beside it


def test_a_fixed_batch_size(tmp_path):
    model, path = MODELS["linear"](), str(tmp_path / "m.onnx")
    kerasfactory.export(model, "onnx", path, batch_size=4)
    inputs = feeds(model, 4)
    names, got = run("onnx", path, inputs)
    np.testing.assert_allclose(got, model.predict(list(inputs.values()), verbose=0), atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A Forecaster (rlinear, closed form: no training) with a future column and calibrated quantiles,
    saved as a run folder; the rows to forecast from (the last PRED with `load` empty) and its forecasts."""
    rng = np.random.default_rng(0)
    t = np.arange(400)
    # Across a month's end: within one month day-of-month and day-of-year marks are collinear, the closed
    # form's weights grow to 1e4 and float32 round-off differs between runtimes by 1e-3.
    frame = pd.DataFrame({"date": pd.date_range("2024-01-25", periods=400, freq="h"),
                          "temp": 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.2, 400)})
    frame["load"] = 40 + 5 * np.sin(2 * np.pi * t / 24) + 0.5 * frame.temp + rng.normal(0, 0.3, 400)
    fc = Forecaster("rlinear", seq_len=SEQ, pred_len=PRED, quantiles=QUANTILES)
    fc.fit(frame.iloc[:-PRED], target="load", future_cols=["temp"])
    folder = tmp_path_factory.mktemp("run")
    fc.save(folder)
    frame.loc[len(frame) - PRED:, "load"] = np.nan
    return folder, frame, fc.predict(frame)


def deploy_feeds(folder, frame):
    """docs/deploy.md's recipe: a run's forecaster.json and the CSV's last rows -> the named, scaled inputs."""
    from kerasfactory.data import calendar_for

    config = json.loads((folder / "forecaster.json").read_text())
    s, scaler = config["data"], config["scalers"][0]  # one wide series: one scaler
    mean, scale = np.array(scaler["mean"]), np.array(scaler["scale"])  # one per column of s["used"]
    known = frame[frame[s["target"]].notna()].tail(s["seq_len"])
    future = frame[frame[s["target"]].isna()].head(s["pred_len"])
    dates = pd.DatetimeIndex(pd.concat([known[s["date_col"]], future[s["date_col"]]])).tz_localize(s["tz"])
    marks, _ = calendar_for(dates, s["freq"], s["holidays"])
    used = (known[s["used"]].to_numpy() - mean) / scale
    inputs = {"x": used[:, [s["used"].index(c) for c in s["inputs"]]], "x_mark": marks[:s["seq_len"]]}
    if s["future_marks"]:
        inputs["y_mark"] = marks[s["seq_len"]:]
    if s["future_cols"]:
        cols = [s["used"].index(c) for c in s["future_cols"]]
        inputs["x_future"] = (future[s["future_cols"]].to_numpy() - mean[cols]) / scale[cols]
    out = [s["used"].index(c) for c in s["outputs"]]
    return {k: v[None].astype("float32") for k, v in inputs.items()}, mean[out], scale[out], config


def test_cli_exports_a_saved_run_and_the_deploy_recipe_gives_its_forecasts(saved_run, capsys):
    from kerasfactory.forecast.calibration import apply_conformal

    folder, frame, forecasts = saved_run
    assert main(["export", "--model", str(folder / "model.keras"), "--format", "onnx"]) == 0
    assert f"Wrote {folder / 'model.onnx'}: inputs x, x_mark, y_mark, x_future" in capsys.readouterr().out
    inputs, mean, scale, config = deploy_feeds(folder, frame)
    _, pred = run("onnx", str(folder / "model.onnx"), inputs)  # (1, pred_len, outputs, levels), not calibrated
    pred = apply_conformal(pred.astype("float64"), config["conformal"])
    for i, q in enumerate(config["options"]["quantiles"]):  # the 0.5 level is the point forecast
        want = forecasts[["load" if q == 0.5 else f"load_q{q:g}"]].to_numpy()
        np.testing.assert_allclose(pred[0, :, :, i] * scale + mean, want, rtol=1e-5, atol=1e-4)


def _not_a_forecaster(folder):
    x = keras.Input((SEQ, 3), name="x")
    keras.Model(x, keras.layers.Dense(1)(x)).save(folder / "other.keras")
    return folder / "other.keras"


def _not_a_keras_file(folder):
    (folder / "model.keras").write_text("not a zip")
    return folder / "model.keras"


CLI_ERRORS = {  # case -> (make the model file in a folder, format, words of the message)
    "missing file": (lambda folder: folder / "model.keras", "onnx", "does not exist"),
    "not a forecaster": (_not_a_forecaster, "onnx", "must be a kerasfactory forecaster, a Keras model with inputs x"),
    "not a .keras file": (_not_a_keras_file, "onnx", "must be a Keras model file (.keras)"),
    "unsupported format": (_not_a_forecaster, "tflite",
                           "`format` must be one of onnx, saved_model, litert, got 'tflite'"),
}


def _cli_error(folder, model, fmt, capsys):
    before = sorted(os.listdir(folder))
    code = main(["export", "--model", str(model), "--format", fmt, "--out", str(folder / "new" / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("kerasfactory export: error: "), err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert sorted(os.listdir(folder)) == before  # nothing written, not even the new parent folder
    return err


@pytest.mark.parametrize("case", list(CLI_ERRORS))
def test_cli_bad_input_exits_2_with_one_paragraph_and_writes_nothing(tmp_path, capsys, case):
    make, fmt, expected = CLI_ERRORS[case]
    assert expected in _cli_error(tmp_path, make(tmp_path), fmt, capsys)


@pytest.mark.skipif(BACKEND == "tensorflow", reason="TensorFlow writes every format")
def test_cli_a_format_the_backend_cannot_write(tmp_path, capsys, saved_run):
    fmt = "litert" if BACKEND == "jax" else "saved_model"
    err = _cli_error(tmp_path, saved_run[0] / "model.keras", fmt, capsys)
    assert f"`format` {fmt!r} cannot be exported on the {BACKEND} backend" in err and "KERAS_BACKEND=tensorflow" in err


def test_bad_input_is_reported_before_any_backend_loads(tmp_path):
    other = _not_a_forecaster(tmp_path)
    code = (
        "import sys; from kerasfactory.forecast.cli import main; "
        f"codes = [main(['export', '--model', {str(tmp_path / 'missing.keras')!r}, '--format', 'onnx']), "
        f"main(['export', '--model', {str(other)!r}, '--format', 'onnx'])]; "
        "print(codes, sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.stdout.split("\n")[-2] == "[2, 2] []", result.stdout + result.stderr


def test_python_errors_name_the_argument_and_keep_an_old_file(tmp_path, monkeypatch):
    model = MODELS["rlinear"]()
    with pytest.raises(UsageError, match=r"`format` must be one of onnx, saved_model, litert, got 'pb'"):
        kerasfactory.export(model, "pb", tmp_path / "m")
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model, a Forecaster .*, got int"):
        kerasfactory.export(42, "onnx", tmp_path / "m.onnx")
    with pytest.raises(UsageError, match=r"`path` is needed .* got None"):
        kerasfactory.export(model, "onnx")
    with pytest.raises(UsageError, match=r"`batch_size` must be None or a positive integer, got 0"):
        kerasfactory.export(model, "onnx", tmp_path / "m.onnx", batch_size=0)
    with pytest.raises(UsageError, match=r"`path` must be a file path for the onnx export, got .*, a folder"):
        kerasfactory.export(model, "onnx", tmp_path)
    old = tmp_path / "m.onnx"
    old.write_bytes(b"old")

    def broken(model, fmt, path, signature):
        open(path, "wb").write(b"half")
        raise RuntimeError("converter gave up")

    monkeypatch.setattr("kerasfactory.forecast.converters.convert", broken)
    with pytest.raises(UsageError, match=r"converter failed on this model \(RuntimeError: converter gave up\)"):
        kerasfactory.export(model, "onnx", old)
    with pytest.raises(UsageError, match=r"converter failed"):
        kerasfactory.export(model, "onnx", tmp_path / "a" / "b" / "m.onnx")
    assert old.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["m.onnx"]
