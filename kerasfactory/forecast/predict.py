"""`kerasfactory predict`: the pred_len steps after the end of a CSV, from a saved run."""

import json
import os
import sys

import numpy as np
import pandas as pd

from kerasfactory.data import DataError, load_series, marks_for, vic_elec
from kerasfactory.forecast import report
from kerasfactory.forecast.run import UsageError


def read_run(model_path):
    """The run's config.json, saved beside model.keras."""
    if not os.path.isfile(model_path):
        raise UsageError(f"--model {model_path!r} does not exist; give the model.keras of a forecast run.")
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "config.json")
    if not os.path.isfile(path):
        raise UsageError(
            f"No config.json beside {model_path!r}; predict needs the run folder written by "
            "`kerasfactory forecast` (model.keras with its config.json)."
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)["data"]


def run_predict(args, stdout=None):
    stdout = stdout or sys.stdout
    cfg = read_run(args.model)
    if args.csv is None:
        if cfg["dataset"] != "vic_elec":
            raise UsageError("predict needs --csv PATH: the series whose future to forecast.")
        path, name = vic_elec().path, "vic_elec"
    else:
        path, name = args.csv, None
    date_col = cfg["date_col"] if args.date_col is None else args.date_col
    series = load_series(
        path, date_col=date_col, columns=cfg["inputs"], target=cfg["target"],
        fill=args.fill if args.fill is not None else cfg["fill"], freq=cfg["freq"], tz=cfg["tz"], name=name,
    )
    seq_len, pred_len = cfg["seq_len"], cfg["pred_len"]
    if len(series.dates) < seq_len:
        raise DataError(
            f"{series.source} has {len(series.dates)} rows, but the model reads the last "
            f"seq_len={seq_len} rows; give a longer series."
        )
    inputs = [series.columns.index(c) for c in cfg["inputs"]]
    mean = np.asarray(cfg["scaler"]["mean"])
    scale = np.asarray(cfg["scaler"]["scale"])
    x = ((series.values[-seq_len:, inputs] - mean) / scale).astype("float32")[None]
    x_mark = marks_for(series.dates[-seq_len:], series.freq)[None]

    import keras

    import kerasfactory.models  # noqa: F401  (registers the layers and models for loading)

    model = keras.saving.load_model(args.model)
    pred = np.asarray(model.predict([x, x_mark], verbose=0))[0]
    out_index = [cfg["inputs"].index(c) for c in cfg["outputs"]]
    pred = pred * scale[out_index] + mean[out_index]
    future = pd.date_range(series.dates[-1], periods=pred_len + 1, freq=series.freq)[1:]
    frame = pd.DataFrame({date_col: future, **{c: pred[:, k] for k, c in enumerate(cfg["outputs"])}})
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)), "predictions.csv")
    if args.csv is not None and os.path.abspath(out) == os.path.abspath(args.csv):
        raise UsageError("--out must not be the input CSV; predict never overwrites your data.")
    report.write_csv(out, frame)
    print(frame.to_string(index=False), file=stdout)
    print(f"\nWrote {out}", file=stdout)
    return frame
