"""`kerasfactory predict`: the pred_len steps after each series' last observed target, from a saved run."""

import json
import os
import sys

from kerasfactory.data import vic_elec
from kerasfactory.forecast import report
from kerasfactory.forecast.forecaster import MODEL_FILE, SETTINGS_FILE, Forecaster, UsageError


def read_run(model_path):
    """The run's config.json `data` (None for a folder saved by `Forecaster.save`)."""
    if not os.path.exists(model_path):
        raise UsageError(f"--model {model_path!r} does not exist; give the model.keras of a forecast run.")
    folder = model_path if os.path.isdir(model_path) else os.path.dirname(os.path.abspath(model_path))
    if os.path.isdir(model_path) and not os.path.isfile(os.path.join(folder, MODEL_FILE)):
        raise UsageError(f"--model {model_path!r} holds no {MODEL_FILE}; give the model.keras of a forecast run.")
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        if os.path.isfile(os.path.join(folder, SETTINGS_FILE)):
            return None
        raise UsageError(
            f"No config.json beside {model_path!r}; predict needs the run folder written by "
            "`kerasfactory forecast` (model.keras with its config.json) or by Forecaster.save."
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)["data"]


def run_predict(args, stdout=None):
    stdout = stdout or sys.stdout
    cfg = read_run(args.model)
    if args.csv is None:
        if cfg is None or cfg.get("dataset") != "vic_elec":
            raise UsageError("predict needs --csv PATH: the series whose future to forecast.")
        path, name = vic_elec().path, "vic_elec"
    else:
        path, name = args.csv, None
    folder = args.model if os.path.isdir(args.model) else os.path.dirname(os.path.abspath(args.model))
    out = args.out or os.path.join(folder, "predictions.csv")
    if args.csv is not None and os.path.abspath(out) == os.path.abspath(args.csv):
        raise UsageError("--out must not be the input CSV; predict never overwrites your data.")
    if os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a folder; give the path of the CSV to write.")
    fc = Forecaster.load(args.model, lazy=True)
    asked = getattr(args, "quantiles", None)
    if asked is not None and (fc.quantiles is None or tuple(asked) != tuple(fc.quantiles)):
        have = ("it was trained without quantiles (point forecasts only)" if fc.quantiles is None
                else f"it was trained with {', '.join(f'{q:g}' for q in fc.quantiles)}")
        raise UsageError(
            f"--quantiles {','.join(f'{q:g}' for q in asked)}: the saved model forecasts the quantile levels it "
            f"was trained with, and {have}; drop --quantiles, or train a model with these levels "
            "(`kerasfactory forecast --quantiles ...`)."
        )
    frame = fc.predict(path, date_col=args.date_col, fill=args.fill, name=name)
    report.write_csv(out, frame)
    print(frame.to_string(index=False), file=stdout)
    print(f"\nWrote {out}", file=stdout)
    return frame
