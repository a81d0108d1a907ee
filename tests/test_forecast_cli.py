"""`kerasfactory forecast` / `predict`: bad input exits 2 cleanly; a small run end to end."""

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kerasfactory.forecast.cli import main

SEQ, PRED = 48, 12


def series_frame(rows=720, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    return pd.DataFrame({
        "date": pd.date_range("2022-03-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
        "temp": 15 + np.cumsum(rng.normal(0, 0.2, rows)),
        "load": 50 + 8 * np.sin(2 * np.pi * t / 24) + 2 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 0.5, rows),
    })


def fingerprint(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def forecast_argv(csv, out, *extra):
    return ["forecast", "--csv", str(csv), "--target", "load", "--seq-len", str(SEQ), "--pred-len",
            str(PRED), "--epochs", "3", "--batch-size", "32", "--seed", "3", "--model", "itransformer", "--hparam", "n_layers=1",
            "--out", str(out), *extra]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One short training run, shared by the end-to-end tests: (csv, out, printed, csv fingerprint)."""
    folder = tmp_path_factory.mktemp("run")
    csv = folder / "load.csv"
    series_frame().to_csv(csv, index=False)
    before = fingerprint(csv)
    out = folder / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(forecast_argv(csv, out))
    assert code == 0
    return csv, out, printed.getvalue(), before


def test_forecast_writes_every_file_and_beats_repeat_last(finished_run):
    csv, out, printed, before = finished_run
    for method in ("model", "repeat last value", "seasonal naive (period 24)", "linear (ridge)"):
        assert method in printed
    assert "MSE (scaled)" in printed and "val_loss" in printed
    for name in ("metrics.json", "model.keras", "config.json", "forecast.png", "test_forecasts.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temporary or backup files left
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert metrics["model"]["mse_scaled"] < metrics["repeat last value"]["mse_scaled"]
    scale = json.loads((out / "config.json").read_text())["data"]["scaler"]["scale"][1]
    assert metrics["model"]["mse"] == pytest.approx(metrics["model"]["mse_scaled"] * scale**2)
    forecasts = pd.read_csv(out / "test_forecasts.csv")
    assert list(forecasts.columns[:4]) == ["origin", "timestamp", "horizon", "actual"]
    assert forecasts.horizon.max() == PRED and forecasts.timestamp.is_unique
    assert fingerprint(csv) == before


def test_predict_continues_the_csv_with_future_timestamps(finished_run):
    csv, out, _, before = finished_run
    pred_out = out.parent / "next.csv"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["predict", "--model", str(out / "model.keras"), "--csv", str(csv), "--out", str(pred_out)])
    assert code == 0
    predicted = pd.read_csv(pred_out, parse_dates=["date"])
    assert list(predicted.columns) == ["date", "load"] and len(predicted) == PRED
    last = pd.Timestamp(series_frame().date.iloc[-1])
    assert list(predicted.date) == list(pd.date_range(last, periods=PRED + 1, freq="h")[1:])
    assert np.isfinite(predicted.load).all() and fingerprint(csv) == before


def test_resume_after_a_kill_gives_the_metrics_of_an_unbroken_run(finished_run, tmp_path, monkeypatch):
    import keras

    from kerasfactory.forecast import run

    csv, reference, _, _ = finished_run
    out = tmp_path / "out"

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    plain = run.callbacks
    monkeypatch.setattr(run, "callbacks", lambda *a: plain(*a) + [Kill()])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(forecast_argv(csv, out)) == 130
    assert (out / "config.json").exists() and (out / ".backup").is_dir()
    assert not (out / "metrics.json").exists() and not (out / "model.keras").exists()
    monkeypatch.setattr(run, "callbacks", plain)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["forecast", "--resume", "--out", str(out)]) == 0
    resumed = json.loads((out / "metrics.json").read_text())
    unbroken = json.loads((reference / "metrics.json").read_text())
    assert resumed["epochs_run"] == unbroken["epochs_run"] == 3
    for name, values in unbroken["metrics"].items():
        assert resumed["metrics"][name] == pytest.approx(values, rel=1e-5), name


def test_existing_run_folder_is_not_overwritten(tmp_path, capsys):
    csv = tmp_path / "load.csv"
    series_frame().to_csv(csv, index=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    code = main(["forecast", "--csv", str(csv), "--target", "load", "--out", str(tmp_path / "out")])
    assert code == 2 and "already holds files" in capsys.readouterr().err
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def _duplicate(frame):
    frame.loc[30, "date"] = frame.loc[29, "date"]
    return frame


def _unsorted(frame):
    frame.loc[[30, 31]] = frame.loc[[31, 30]].to_numpy()
    return frame


def _with_nan(frame):
    frame.loc[[7, 8], "load"] = np.nan
    return frame


BAD_INPUTS = {
    "missing file": (None, [], "does not exist"),
    "missing date column": (lambda f: f, ["--date-col", "when"], "'date', 'temp', 'load'"),
    "missing target": (lambda f: f, ["--target", "OT"], "'date', 'temp', 'load'"),
    "non-numeric column": (lambda f: f.assign(site="north"), [], "not numeric"),
    "nan": (_with_nan, [], "2 missing value(s)"),
    "duplicate timestamps": (_duplicate, [], "duplicated"),
    "unsorted timestamps": (_unsorted, [], "not in increasing order"),
    "irregular spacing": (lambda f: f.drop(index=[100, 200]), [], "not evenly spaced"),
    "too short": (lambda f: f.head(70), [], "too short"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_paragraph(tmp_path, capsys, case):
    make, extra, expected = BAD_INPUTS[case]
    csv = tmp_path / "in.csv"
    if make is not None:
        make(series_frame()).to_csv(csv, index=False)
        before = fingerprint(csv)
    argv = ["forecast", "--csv", str(csv), "--target", "load", "--seq-len", str(SEQ),
            "--pred-len", str(PRED), "--out", str(tmp_path / "out"), *extra]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kerasfactory forecast: error: ") and expected in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    if make is not None:
        assert fingerprint(csv) == before


def test_nan_is_accepted_with_fill(tmp_path):
    from kerasfactory.data import load_series

    csv = tmp_path / "in.csv"
    _with_nan(series_frame()).to_csv(csv, index=False)
    assert np.isfinite(load_series(csv, fill="interpolate").values).all()


def test_bad_input_is_reported_before_any_backend_is_imported(tmp_path):
    # TensorFlow writes start-up lines to stderr whatever TF_CPP_MIN_LOG_LEVEL says
    # (on CPUs where it turns oneDNN on), so the one-line error needs Keras unimported.
    code = (
        "import sys; from kerasfactory.forecast.cli import main; "
        f"code = main(['forecast', '--csv', {str(tmp_path / 'missing.csv')!r}]); "
        "print(code, sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.stdout.split("\n")[-2] == "2 []", result.stdout + result.stderr


def test_python_dash_m_reports_bad_input_without_traceback(tmp_path):
    missing = tmp_path / "missing.csv"
    result = subprocess.run(
        [sys.executable, "-m", "kerasfactory", "forecast", "--csv", str(missing)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_predict_without_a_run_folder_exits_2(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "model.keras"), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_linear_model_runs_end_to_end_and_its_saved_model_predicts(tmp_path):
    # CycleLinear through the whole job: its Cycle layer reads the phase off the marks, is saved
    # in model.keras and must load again for `predict`.
    csv, out = tmp_path / "load.csv", tmp_path / "out"
    series_frame().to_csv(csv, index=False)
    argv = [a for a in forecast_argv(csv, out) if a not in ("--hparam", "n_layers=1")]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*argv, "--model", "linear", "--epochs", "20"]) == 0
        code = main(["predict", "--model", str(out / "model.keras"), "--csv", str(csv), "--out", str(tmp_path / "p.csv")])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert metrics["model"]["mse_scaled"] < metrics["repeat last value"]["mse_scaled"]
    assert len(pd.read_csv(tmp_path / "p.csv")) == PRED


def _plan(*argv):
    from kerasfactory.forecast.cli import build_parser
    from kerasfactory.forecast.run import resolve_source, variants

    args = build_parser().parse_args(["forecast", *argv])
    source = resolve_source(args)
    return source["holidays"], source["future_cols"], [name for name, *_ in variants(args, source)]


def test_the_default_job_uses_holidays_and_oracle_temperature_with_the_ablation():
    assert _plan() == ("AU-VIC", ["Temperature"], ["none", "holidays", "holidays+future"])
    assert _plan("--no-ablation") == ("AU-VIC", ["Temperature"], ["holidays+future"])
    assert _plan("--holidays", "none") == (None, ["Temperature"], ["none", "future"])
    assert _plan("--holidays", "none", "--future-cols", "none") == (None, [], ["none"])
    assert _plan("--csv", "x.csv", "--holidays", "FR") == ("FR", [], ["holidays"])  # no ablation by default
    assert _plan("--csv", "x.csv", "--holidays", "FR", "--events", "e.csv", "--future-cols", "t", "--ablation")[2] == [
        "none", "holidays+events", "holidays+events+future"]
