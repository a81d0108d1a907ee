"""`kerasfactory.Forecaster`: one series or many, calendar and known-ahead covariates, in Python.

The `kerasfactory forecast` / `predict` command line is a thin wrapper over this class plus
its report (metrics table, files, plot). Importing this module loads no Keras backend;
`fit`, `predict` and `load` do.
"""

import json
import os
import warnings

import numpy as np
import pandas as pd

from kerasfactory.data import DataError, load_panel, parse_split, prepare
from kerasfactory.data.prepare import FEATURES, calendar_for, read_events
from kerasfactory.forecast import auto

DEFAULTS = {
    "features": "MS", "seq_len": 96, "pred_len": 48, "model": "auto", "epochs": 5,
    "batch_size": 128, "seed": 2024, "learning_rate": 1e-3, "patience": 2, "time_budget": auto.BUDGET_S,
}
FORMAT = "kerasfactory.Forecaster"
SETTINGS_FILE = "forecaster.json"
MODEL_FILE = "model.keras"


class UsageError(ValueError):
    """A bad option value; the CLI prints it and exits with code 2."""


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def _key(series_id):
    """Series ids as JSON keys and lookup keys (a CSV read twice may give 7 or '7')."""
    return "" if series_id is None else str(series_id)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value


def errors(pred, true, mask=None):
    """MSE and MAE over every window, step and column (only where `mask`, when given)."""
    diff = np.asarray(pred, dtype="float64") - np.asarray(true, dtype="float64")
    if mask is not None:
        diff = diff[mask]
    if diff.size == 0:
        return {"mse": None, "mae": None}
    return {"mse": float(np.mean(diff**2)), "mae": float(np.mean(np.abs(diff)))}


def target_metrics(pred, true, mean, scale, mask=None):
    """Errors of one column, scaled and in original units (`mean`, `scale` per window)."""
    scaled = errors(pred, true, mask)
    original = errors(pred * scale[:, None] + mean[:, None], true * scale[:, None] + mean[:, None], mask)
    result = {"mse_scaled": scaled["mse"], "mae_scaled": scaled["mae"], "mse": original["mse"], "mae": original["mae"]}
    if mask is not None:
        result["steps"] = int(np.sum(mask))
    return result


class Forecaster:
    """A forecaster from `kerasfactory.models`, with its data handling, in one object.

    `fit` checks the data (one wide series, or many in a long table with `id_col`), splits
    each series chronologically, fits a scaler per series on its training rows, pools the
    windows of every series and trains one global model with early stopping on the
    validation loss (models with a closed form, the linear ones, are fitted in closed form,
    their ridge penalty picked on validation). With `model="auto"` (the default) it fits
    every candidate of `kerasfactory.forecast.auto` and keeps the one with the lowest
    validation MSE; the test split plays no part in the choice. `predict` forecasts the `pred_len` steps after each series' last
    observed target; `evaluate` scores the test split; `save` / `load` keep everything
    needed to predict (a `model.keras` and a `forecaster.json`; no pickle).

    Args:
        model: "auto" (default: chosen on validation, see `selection_`) or a name of
            `kerasfactory.models.MODELS` ("itransformer", "patchtst", "timemixer", "rlinear", ...).
        seq_len, pred_len: input and forecast steps.
        features: "MS" (all columns -> the target), "S" (target -> target) or "M" (all -> all).
        batch_size, epochs, learning_rate, patience, seed: training (Adam, MSE loss, early
            stopping after `patience` epochs without a better validation loss, best weights kept;
            the weights start from PyTorch's draw, `build_model(init="torch")`, which trains to a
            lower validation loss than Keras' Glorot draw in our measurements).
        verbose: Keras' `fit` verbosity (0: silent).
        time_budget: with "auto", the CPU seconds (this process, all threads) its neural
            candidates share: at most that many wall seconds on an idle machine, the same
            training on a busy one.
        candidates: with "auto", the model names to choose among (default: every candidate of
            `kerasfactory.forecast.auto`, e.g. `["rlinear", "patchtst"]` keeps those).
        quantiles: quantile levels to forecast too, e.g. `(0.1, 0.5, 0.9)` (sorted, distinct, in
            (0, 1)); None (default) for point forecasts only. The point model is fitted and
            chosen exactly as without them; it is then wrapped with a quantile head at its
            initial spread (normal quantiles times each input window's standard deviation), and
            `predict` / `evaluate` add the levels (see `kerasfactory.forecast.intervals`).
        calibrate: with `quantiles`, widen or narrow each central interval `(q, 1 - q)` per
            horizon step by split-conformal calibration on the validation windows (`conformal_`).
        **hparams: the model's hyperparameters (e.g. `d_model=64, n_layers=1`); a pinned
            model only.

    Attributes:
        model_: the trained Keras model (after `fit` or `load`).
        data_: the prepared `kerasfactory.data.ForecastData` (splits, scalers, windows); not saved.
        settings_: the data settings `predict` needs (columns, frequency, calendar options, ...).
        scalers_: each series' scaler, `{str(id): {"id", "mean", "scale"}}` (key "" for one series).
        history_: the per-epoch training logs.
        selection_: with "auto", one dict per candidate (`candidate`, `model`, `hparams`,
            `fit`, `val_mse`, `train_s`, `cpu_s`, `chosen`); `model_name` and `hparams` become the choice's.
        point_model_: with `quantiles`, the fitted point model that `model_` wraps (after `fit`).
        conformal_: with `quantiles` and `calibrate`, `fit_conformal`'s adjustment (saved).

    Example (see docs/python-api.md for a run):

        fc = Forecaster("itransformer", seq_len=96, pred_len=48, epochs=5, d_model=64)
        fc.fit(df, date_col="date", target="load", id_col="site", future_cols=["temp"],
               holidays="AU-VIC")
        forecasts = fc.predict(df_with_future_rows)
        fc.save("run/"); fc = Forecaster.load("run/")
    """

    def __init__(self, model=DEFAULTS["model"], *, seq_len=DEFAULTS["seq_len"], pred_len=DEFAULTS["pred_len"],
                 features=DEFAULTS["features"], batch_size=DEFAULTS["batch_size"], epochs=DEFAULTS["epochs"],
                 learning_rate=DEFAULTS["learning_rate"], patience=DEFAULTS["patience"], seed=DEFAULTS["seed"],
                 verbose=0, time_budget=DEFAULTS["time_budget"], candidates=None, quantiles=None, calibrate=True,
                 **hparams):
        from kerasfactory.forecast import intervals

        if not isinstance(model, str):
            raise UsageError(f"`model` must be 'auto' or a model name such as 'itransformer', got {model!r}.")
        if model == "auto" and hparams:
            raise UsageError(
                f"Hyperparameters ({', '.join(sorted(hparams))}) need a pinned model: `model='auto'` chooses "
                "among candidates with their own; give a model name such as 'itransformer'."
            )
        if isinstance(time_budget, bool) or not isinstance(time_budget, (int, float)) or not time_budget >= 0:
            raise UsageError(f"`time_budget` must be a number of seconds >= 0, got {time_budget!r}.")
        known = sorted({name for name, _ in (*auto.CLOSED_FORM, *auto.NEURAL)})
        if candidates is not None:
            candidates = [candidates] if isinstance(candidates, str) else list(candidates)
            unknown = [c for c in candidates if c not in known]
            if unknown or not candidates:
                raise UsageError(f"`candidates` must be names among {', '.join(known)}, got {unknown or candidates!r}.")
            if model != "auto":
                raise UsageError(f"`candidates` are what model='auto' chooses among; model {model!r} is pinned.")
        if features not in FEATURES:
            raise UsageError(f"`features` must be one of {', '.join(FEATURES)}, got {features!r}.")
        if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise UsageError(f"`learning_rate` must be a positive number, got {learning_rate!r}.")
        self.model_name = model
        self.seq_len = _positive_int("seq_len", seq_len)
        self.pred_len = _positive_int("pred_len", pred_len)
        self.features = features
        self.batch_size = _positive_int("batch_size", batch_size)
        self.epochs = _positive_int("epochs", epochs)
        self.learning_rate = float(learning_rate)
        self.patience = _positive_int("patience", patience)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise UsageError(f"`seed` must be an integer, got {seed!r}.")
        self.seed = int(seed)
        self.verbose = verbose
        self.hparams = dict(hparams)
        self.time_budget = float(time_budget)
        self.candidates = candidates
        self.quantiles = intervals.check(quantiles, UsageError)
        if not isinstance(calibrate, (bool, np.bool_)):
            raise UsageError(f"`calibrate` must be True or False, got {calibrate!r}.")
        self.calibrate = bool(calibrate)
        if self.quantiles is not None and self.calibrate:
            alone = intervals.unpaired(self.quantiles)
            if alone:
                raise UsageError(
                    f"Calibration widens central intervals (q, 1 - q): `quantiles` {list(alone)} have no partner "
                    f"among {list(self.quantiles)}; add it (e.g. {round(1 - alone[0], 10)}) or pass calibrate=False."
                )
        self.point_model_ = None
        self.conformal_ = None
        self.selection_ = None
        self.model_ = None
        self._model_path = None
        self.data_ = None
        self.settings_ = None
        self.scalers_ = None
        self.history_ = []

    def __repr__(self):
        state = "fitted" if self.model_ is not None else "not fitted"
        return f"Forecaster({self.model_name!r}, seq_len={self.seq_len}, pred_len={self.pred_len}, {state})"

    # -- fitting -----------------------------------------------------------------------------

    def prepare(self, df, *, target=None, date_col=None, id_col=None, columns=None, future_cols=(),
                holidays=None, events=None, freq=None, split=None, fill=None, tz="UTC", name=None,
                eval_holidays=None):
        """Loads, checks, splits and scales the data and makes the windows (the first half of
        `fit`, which the command line runs before writing anything). Returns the `ForecastData`."""
        future_cols = [future_cols] if isinstance(future_cols, str) else list(future_cols or ())
        if holidays is not None and not isinstance(holidays, str):
            raise UsageError(f"`holidays` must be a code such as 'AU-VIC', got {holidays!r}.")
        events = read_events(events)
        load = dict(date_col=date_col, id_col=id_col, columns=columns, future_cols=future_cols, fill=fill,
                    freq=freq, tz=tz, name=name)
        if target is None:  # the last value column; then read again, to find the future rows by it
            panel = load_panel(df, target=None, **load)
            target = [c for c in panel.columns if c not in future_cols][-1]
        panel = load_panel(df, target=target, **load)
        split = parse_split(split)
        data = prepare(
            panel, target=target, features=self.features, seq_len=self.seq_len, pred_len=self.pred_len,
            batch_size=self.batch_size, split=split, seed=self.seed, future_cols=future_cols,
            holidays=holidays, events=events, future_marks=True, eval_holidays=eval_holidays,
        )
        self.data_ = data
        self.settings_ = {
            "date_col": panel.date_col, "id_col": id_col, "target": target, "columns": list(panel.columns),
            "features": self.features, "inputs": list(data.inputs), "outputs": list(data.outputs),
            "future_cols": list(data.future), "used": list(data.used), "target_index": data.target_index,
            "freq": panel.freq, "tz": tz, "fill": fill, "holidays": holidays,
            "events": None if data.events is None else data.events.to_dict(orient="records"),
            "mark_dim": data.mark_dim, "mark_names": list(data.mark_names), "future_marks": True,
            "seq_len": self.seq_len, "pred_len": self.pred_len,
            "split": list(split) if isinstance(split, tuple) else split,
            "skipped": [{"id": _plain(sid), "rows": rows} for sid, rows in data.skipped],
        }
        self.scalers_ = {
            _key(p.id): {"id": _plain(p.id), "mean": p.scaler.mean_.tolist(), "scale": p.scaler.scale_.tolist()}
            for p in data.parts
        }
        if data.skipped:
            listed = ", ".join(f"{sid!r} ({rows} rows)" for sid, rows in data.skipped[:10])
            more = f" and {len(data.skipped) - 10} more" if len(data.skipped) > 10 else ""
            warnings.warn(
                f"Skipped {len(data.skipped)} series too short for one window of seq_len={self.seq_len} "
                f"+ pred_len={self.pred_len} in each split: {listed}{more}. They are neither trained "
                "on nor forecast.", UserWarning, stacklevel=3,
            )
        return data

    def build(self):
        """The compiled, seeded Keras model for the prepared data (`model_`); with "auto", `None`
        (the candidates are built as `train` fits them)."""
        if self.data_ is None:
            raise UsageError("Call fit (or prepare) with data before building the model.")
        self.point_model_ = self.conformal_ = None
        if self.model_name == "auto":
            return None
        try:
            self.model_ = self._build(self.model_name, self.hparams)
        except (ValueError, TypeError) as err:
            raise UsageError(f"Cannot build model {self.model_name!r}: {err}") from err
        return self.model_

    def _build(self, name, hparams, compile=None):
        """The model `name`, compiled for gradient training (by default, unless it has a closed form)."""
        from kerasfactory import models

        data = self.data_
        model = models.build_model(
            name, seq_len=self.seq_len, pred_len=self.pred_len, n_vars=len(data.inputs),
            mark_dim=data.mark_dim, freq=data.freq, target_index=data.target_index, seed=self.seed,
            future_marks=data.future_marks, future_dim=len(data.future), init="torch", **hparams,
        )
        if compile or (compile is None and not models.has_closed_form(model)):
            models.compile_model(model, learning_rate=self.learning_rate, loss="mse", metrics=["mae"])
        return model

    def default_callbacks(self):
        """Per-epoch window order and early stopping on the validation loss (best weights kept)."""
        import keras

        return [
            self.set_epoch_callback(),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=self.patience, restore_best_weights=True),
        ]

    def set_epoch_callback(self):
        """A callback giving the training windows their order for each epoch (also after a resume)."""
        import keras

        train = self.data_.datasets["train"]

        class SetEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                train.set_epoch(epoch)

        return SetEpoch()

    def train(self, callbacks=None, verbose=None):
        """Fits `model_` on the training windows; `callbacks` replace the default ones
        (per-epoch window order and early stopping). A model with a closed form is fitted in
        it instead; with "auto", every candidate is fitted and the best on validation kept.
        Returns the per-epoch history."""
        from kerasfactory.models import fit_least_squares, has_closed_form

        data = self.data_
        if self.point_model_ is not None:  # trained before: train the point model again, then wrap it anew
            self.model_, self.point_model_, self.conformal_ = self.point_model_, None, None
        if self.model_name == "auto":
            self.select(verbose=verbose)
        elif has_closed_form(self.model_):
            fitted = fit_least_squares(self.model_, data.datasets["train"].arrays(), data.datasets["val"].arrays())
            self.history_ = [{"val_loss": fitted["val_mse"], "ridge_alpha": fitted["alpha"]}]
        else:
            self.history_ = self._fit(self.default_callbacks() if callbacks is None else callbacks, verbose)
        self._add_intervals()
        return self.history_

    def _add_intervals(self):
        """With `quantiles`: wraps the fitted point model (`point_model_`) with the quantile head and,
        with `calibrate`, fits the conformal adjustment on the validation windows (`conformal_`)."""
        if self.quantiles is None:
            return
        from kerasfactory.forecast import intervals

        self.point_model_ = self.model_
        self.model_ = intervals.wrap(self.point_model_, self.quantiles, self.data_.target_index)
        if self.calibrate:
            self.conformal_ = intervals.calibrate(self.model_, self.data_.datasets["val"].arrays(), self.quantiles)

    def _fit(self, callbacks, verbose):
        """Gradient training of `model_` with `callbacks`; returns the per-epoch logs."""
        data = self.data_
        result = self.model_.fit(
            data.datasets["train"], validation_data=data.datasets["val"], epochs=self.epochs,
            callbacks=callbacks, verbose=self.verbose if verbose is None else verbose,
            shuffle=False,  # the training windows shuffle themselves, by (seed, epoch), for resuming
        )
        kept = [c.history for c in callbacks if isinstance(getattr(c, "history", None), list)]
        if kept:
            return kept[0]
        logs = result.history
        epochs = len(next(iter(logs.values()), []))
        return [{k: float(v[i]) for k, v in logs.items()} for i in range(epochs)]

    def select(self, verbose=None, **options):
        """`model="auto"` on the prepared data: fits the candidates, keeps the best on validation
        (`kerasfactory.forecast.auto.select`; `options` are its `closed_form`, `neural`,
        `on_fitted`). Sets `model_`, `model_name`, `hparams` and `selection_`; returns the history."""
        data = self.data_

        def train(model, extra):
            self.model_ = model
            self._fit([*self.default_callbacks(), *extra], verbose)

        if self.candidates is not None:
            keep = lambda pool: tuple(c for c in pool if c[0] in self.candidates)  # noqa: E731
            options = {"closed_form": keep(auto.CLOSED_FORM), "neural": keep(auto.NEURAL), **options}
        model, (name, hparams), table = auto.select(
            self._build, train, data.datasets["train"].arrays(), data.datasets["val"].arrays(),
            budget_s=self.time_budget, **options,
        )
        self.model_, self.model_name, self.hparams, self.selection_ = model, name, dict(hparams), table
        chosen = next(row for row in table if row["chosen"])
        self.history_ = [{"val_loss": chosen["val_mse"]}]
        return self.history_

    def fit(self, df, *, target=None, date_col=None, id_col=None, columns=None, future_cols=(), holidays=None,
            events=None, freq=None, split=None, fill=None, tz="UTC", callbacks=None):
        """Checks `df`, splits and scales it per series, and trains the model. Returns `self`.

        Args:
            df: a DataFrame or a CSV path. Wide (one series: a timestamp column and numeric
                columns) or long (with `id_col`: one row per series and timestamp).
            target: the column to forecast (default: the last value column).
            date_col: the timestamp column (default: one named date/datetime/timestamp/time/ds).
            id_col: the series-id column of a long table; None for one wide series.
            columns: the value columns to use (default: all numeric ones).
            future_cols: columns known ahead: their values at the forecast steps are inputs too.
            holidays: a holiday code ("AU-VIC", "FR", ...; `kerasfactory holidays` lists them):
                holiday, days-to-next and days-since-last columns join the calendar marks.
            events: a table (CSV path or DataFrame) with `event` and `date` or `start`/`end`:
                one 0/1 column per event joins the calendar marks.
            freq: the pandas frequency (default: inferred; all series must share it).
            split: "ett" or three fractions (default 0.7, 0.1, 0.2), per series.
            fill: None to refuse missing values, "ffill" or "interpolate".
            tz: the time zone aware timestamps are shown in.
            callbacks: Keras callbacks replacing the defaults (see `train`).

        Raises:
            DataError: bad data (names the column, series, value or timestamp).
            UsageError: bad options or hyperparameters.
        """
        self.prepare(df, target=target, date_col=date_col, id_col=id_col, columns=columns,
                     future_cols=future_cols, holidays=holidays, events=events, freq=freq, split=split,
                     fill=fill, tz=tz)
        self.build()
        self.train(callbacks)
        return self

    # -- scoring -----------------------------------------------------------------------------

    def _require(self, what, data=True):
        if (self.model_ is None and self._model_path is None) or (data and self.data_ is None):
            raise UsageError(f"{what} needs a fitted Forecaster: call fit first"
                             + ("." if data else " (or Forecaster.load)."))

    def test_predictions(self, quantiles=False):
        """The model's scaled predictions on every test window, `(windows, pred_len, outputs)`, and
        the true values. With `quantiles=True` (a Forecaster with `quantiles`), also the calibrated
        quantile predictions `(windows, pred_len, outputs, n_q)`: `(pred, y, pred_q)`; `pred` is
        then the point model's forecast, the head's centre."""
        self._require("test_predictions")
        if quantiles and self.quantiles is None:
            raise UsageError("test_predictions(quantiles=True) needs a Forecaster built with `quantiles`.")
        dataset = self.data_.datasets["test"]
        inputs, y = dataset.arrays()
        # Under data parallelism the test split's last batch is padded; keep the real windows.
        if self.quantiles is None:
            pred = np.asarray(self.model_.predict(dataset, verbose=0))[:len(y)]
            return pred, y
        from kerasfactory.forecast import intervals

        pred, pred_q = intervals.predict_both(self.model_, dataset, self.conformal_, n=len(y))
        return (pred, y, pred_q) if quantiles else (pred, y)

    def evaluate(self, baselines=True):
        """Test-split errors of the model (and of three baselines): overall (`"metrics"`), per
        series (`"per_series"`, long tables) and on the forecast steps that fall on a holiday
        (`"holiday_days"`, with `holidays`); MSE and MAE scaled and in original units. The
        scaled predictions per test window are in `"predictions"`, the true values in `"y"`.

        With `quantiles`, the point predictions are the point model's (the same errors as
        without), and `"intervals"` holds per row (`"model"`, each baseline; None for a baseline
        without a forecast) `pinball`, `crps`, `coverage`, `coverage_per_step`, `mean_width`,
        `mean_width_per_step` on the target column in scaled units
        (`kerasfactory.forecast.intervals.score`); the baselines' intervals come from their
        validation residuals. The quantile predictions are in `"quantile_predictions"`."""
        from kerasfactory.forecast import intervals
        from kerasfactory.forecast.baselines import LinearBaseline, repeat_last, seasonal_naive
        from kerasfactory.time_features import seasonal_period

        self._require("evaluate")
        data = self.data_
        if self.quantiles is None:
            pred, y = self.test_predictions()
        else:
            pred, y, pred_q = self.test_predictions(quantiles=True)
            quantile_preds = {"model": pred_q}
            (xv, *_), yv = data.datasets["val"].arrays()
        preds = {"model": pred}
        extra = {}
        if baselines:
            (x, *_), _ = data.datasets["test"].arrays()
            outputs = [data.inputs.index(c) for c in data.outputs]
            preds["repeat last value"] = repeat_last(x, outputs, data.pred_len)
            period = seasonal_period(data.freq)
            preds[f"seasonal naive (period {period})"] = seasonal_naive(x, outputs, data.pred_len, period)
            linear = LinearBaseline().fit(data.datasets["train"].arrays(), data.datasets["val"].arrays())
            preds["linear (ridge)"] = linear.predict(x)
            extra = {"ridge_alpha": linear.alpha, "seasonal_period": period}
            if self.quantiles is not None:  # each baseline's validation forecasts, as its test ones above
                val_preds = {
                    "repeat last value": repeat_last(xv, outputs, data.pred_len),
                    f"seasonal naive (period {period})": seasonal_naive(xv, outputs, data.pred_len, period),
                    "linear (ridge)": linear.predict(xv),
                }
                for name, val_pred in val_preds.items():
                    quantile_preds[name] = intervals.baseline_quantiles(val_pred, yv, preds[name], self.quantiles)
        if self.quantiles is not None:
            t = data.target_output
            extra["intervals"] = {
                name: None if q is None else intervals.score(q, y, self.quantiles, t)
                for name, q in quantile_preds.items()
            }
            extra["quantile_predictions"] = quantile_preds
        return {**score_predictions(data, preds, y), **extra, "predictions": preds, "y": y}

    # -- predicting ------------------------------------------------------------------------

    def predict(self, df, *, date_col=None, fill=None, name=None):
        """Forecasts the `pred_len` steps after each series' last observed target.

        `df` (a DataFrame or CSV path) has the columns used in `fit`; for a long table every
        series must have been fitted. Rows after a series' last observed target (target
        empty) are its future rows: with `future_cols`, the first `pred_len` of them must
        hold those columns' values.

        Returns:
            A DataFrame `[id_col,] date_col, <outputs>` in original units, `pred_len` rows per
            series. With `quantiles`, each output column `c` (the point forecast, the median or
            centre) is followed by `c_q0.1`, ... (one per level, calibrated, never crossing).
        """
        self._require("predict", data=False)
        s = self.settings_
        panel = load_panel(
            df, date_col=date_col or s["date_col"], id_col=s["id_col"], columns=s["used"], target=s["target"],
            future_cols=s["future_cols"], fill=s["fill"] if fill is None else fill, freq=s["freq"], tz=s["tz"],
            name=name,
        )
        events = read_events(s["events"])
        seq_len, pred_len = s["seq_len"], s["pred_len"]
        used = [panel.columns.index(c) for c in s["used"]]
        inputs = [s["used"].index(c) for c in s["inputs"]]
        future = [panel.columns.index(c) for c in s["future_cols"]]
        future_scaled = [s["used"].index(c) for c in s["future_cols"]]
        batch = {"x": [], "x_mark": [], "y_mark": [], "x_future": []}
        rows = []
        for series in panel.series:
            scaler = self.scalers_.get(_key(series.id))
            if scaler is None:
                skipped = {_key(d["id"]) for d in s.get("skipped", [])}
                why = (" (it was skipped in fit, too short)" if _key(series.id) in skipped
                       else " (it was not in the data given to fit)")
                known = ", ".join(repr(v["id"]) for v in list(self.scalers_.values())[:5])
                raise DataError(
                    f"The model has no scaler for {series.label}{why}; it can forecast the series "
                    f"it was trained on: {known}{' and more' if len(self.scalers_) > 5 else ''}."
                )
            if len(series.dates) < seq_len:
                raise DataError(
                    f"{series.source} has {len(series.dates)} rows up to its last observed "
                    f"{s['target']!r}, but the model reads the last seq_len={seq_len} rows; give a longer series."
                )
            last = series.dates[-1]
            steps = pd.date_range(last, periods=pred_len + 1, freq=s["freq"])[1:]
            mean, scale = np.asarray(scaler["mean"]), np.asarray(scaler["scale"])
            if s["future_cols"]:
                have = len(series.future_dates)
                if have < pred_len:
                    raise DataError(
                        f"predict needs the values of the future column(s) {', '.join(map(repr, s['future_cols']))} "
                        f"at the {pred_len} steps after the last observed {s['target']!r} of {series.source} "
                        f"({last}): rows {steps[0]} to {steps[-1]} with those columns filled and "
                        f"{s['target']!r} empty. It has {have} such row(s)"
                        + (f", up to {series.future_dates[-1]}" if have else "") + "; add the missing ones."
                    )
                values = series.future_values[:pred_len][:, future]
                missing = np.argwhere(np.isnan(values))
                if missing.size:
                    step, col = missing[0]
                    raise DataError(
                        f"The future column {s['future_cols'][col]!r} is empty at {steps[step]} in "
                        f"{series.source}, a forecast step; the model needs its value there "
                        f"({len(missing)} empty value(s) at the forecast steps in all). Fill them in."
                    )
                batch["x_future"].append(((values - mean[future_scaled]) / scale[future_scaled]).astype("float32"))
            dates = series.dates[-seq_len:].append(steps)
            marks, _ = calendar_for(dates, s["freq"], s["holidays"], events)
            history = (series.values[-seq_len:][:, used] - mean) / scale
            batch["x"].append(history[:, inputs].astype("float32"))
            batch["x_mark"].append(marks[:seq_len])
            batch["y_mark"].append(marks[seq_len:])
            rows.append((series, steps, mean, scale))
        names = ["x", "x_mark"] + (["y_mark"] if s["future_marks"] else []) + (["x_future"] if s["future_cols"] else [])
        model_inputs = [np.stack(batch[n]) for n in names]
        if self.quantiles is None:
            pred = np.asarray(self._model().predict(model_inputs, verbose=0, batch_size=self.batch_size))
            pred_q = None
        else:
            from kerasfactory.forecast import intervals

            pred, pred_q = intervals.predict_both(self._model(), model_inputs, self.conformal_,
                                                  batch_size=self.batch_size)
        out_index = [s["used"].index(c) for c in s["outputs"]]
        frames = []
        for k, (series, steps, mean, scale) in enumerate(rows):
            values = pred[k] * scale[out_index] + mean[out_index]
            frame = {}
            if s["id_col"] is not None:
                frame[s["id_col"]] = [series.id] * pred_len
            frame[s["date_col"]] = steps
            for j, c in enumerate(s["outputs"]):
                frame[c] = values[:, j]
                for i, q in enumerate(self.quantiles if pred_q is not None else ()):
                    frame[intervals.column_name(c, q)] = pred_q[k][:, j, i] * scale[out_index][j] + mean[out_index][j]
            frames.append(pd.DataFrame(frame))
        return pd.concat(frames, ignore_index=True)

    # -- saving ------------------------------------------------------------------------------

    def config(self):
        """Everything `load` needs besides the weights, as a JSON-friendly dict."""
        from kerasfactory import __version__

        config = {
            "format": FORMAT, "version": 1, "kerasfactory_version": __version__,
            "model": self.model_name, "hparams": self.hparams,
            "options": {
                "seq_len": self.seq_len, "pred_len": self.pred_len, "features": self.features,
                "batch_size": self.batch_size, "epochs": self.epochs, "learning_rate": self.learning_rate,
                "patience": self.patience, "seed": self.seed,
            },
            "selection": self.selection_,
            "data": self.settings_,
            "scalers": list(self.scalers_.values()),
        }
        if self.quantiles is not None:  # model.keras holds the wrapped model; the adjustment is here
            config["options"].update(quantiles=list(self.quantiles), calibrate=self.calibrate)
            config["conformal"] = self.conformal_
        return config

    def save(self, path):
        """Writes `model.keras` and `forecaster.json` into the folder `path` (created if needed;
        those two files are replaced, each in one step)."""
        from kerasfactory.forecast.report import atomic_path, write_json

        self._require("save", data=False)
        model = self._model()
        path = os.fspath(path)
        if os.path.exists(path) and not os.path.isdir(path):
            raise UsageError(f"save needs a folder; {path!r} is a file.")
        os.makedirs(path, exist_ok=True)
        with atomic_path(os.path.join(path, MODEL_FILE)) as tmp:
            model.save(tmp)
        write_json(os.path.join(path, SETTINGS_FILE), self.config())
        return path

    def _model(self):
        """`model_`, read from the saved file on first use after `load(..., lazy=True)`."""
        if self.model_ is None and self._model_path is not None:
            import keras

            import kerasfactory.models  # noqa: F401  (registers the layers and models for loading)

            self.model_ = keras.saving.load_model(self._model_path)
        return self.model_

    @classmethod
    def load(cls, path, lazy=False):
        """A Forecaster saved by `save`, or a `kerasfactory forecast` run folder (also one
        written by 0.2.0, with only config.json); `path` is the folder or its model.keras.
        With `lazy=True` the Keras model is read only when first needed, so that bad data
        given to `predict` is reported before any backend starts."""
        path = os.fspath(path)
        folder, model_path = (path, os.path.join(path, MODEL_FILE)) if os.path.isdir(path) else (
            os.path.dirname(os.path.abspath(path)), path)
        if not os.path.isfile(model_path):
            raise UsageError(f"{model_path!r} does not exist; give a saved Forecaster's folder or its model.keras.")
        settings_path = os.path.join(folder, SETTINGS_FILE)
        legacy_path = os.path.join(folder, "config.json")
        if os.path.isfile(settings_path):
            with open(settings_path, encoding="utf-8") as f:
                config = json.load(f)
            if config.get("format") != FORMAT:
                raise UsageError(f"{settings_path!r} is not a saved Forecaster.")
        elif os.path.isfile(legacy_path):
            with open(legacy_path, encoding="utf-8") as f:
                config = _from_run_config(json.load(f))
        else:
            raise UsageError(
                f"No {SETTINGS_FILE} or config.json beside {model_path!r}; load needs the folder written by "
                "Forecaster.save or `kerasfactory forecast`."
            )
        options = dict(config["options"])
        fc = cls(config["model"], **options, **config.get("hparams", {}))
        fc.settings_ = config["data"]
        fc.scalers_ = {_key(s["id"]): s for s in config["scalers"]}
        fc.conformal_ = config.get("conformal")
        fc._model_path = model_path
        if not lazy:
            fc._model()
        return fc


def _from_run_config(config):
    """Forecaster settings from a 0.2.0 run's config.json (one wide series, no calendar options)."""
    d = config["data"]
    inputs, outputs = list(d["inputs"]), list(d["outputs"])
    options = {k: d[k] for k in ("seq_len", "pred_len")}
    if "features" in d:
        options["features"] = d["features"]
    saved = config.get("options", {})
    model = saved.get("model", "itransformer")
    return {
        "model": model, "hparams": {}, "options": options,
        "data": {
            "date_col": d["date_col"], "id_col": None, "target": d["target"], "columns": inputs,
            "features": d.get("features", "MS"), "inputs": inputs, "outputs": outputs, "future_cols": [],
            "used": inputs, "target_index": d.get("target_index"), "freq": d["freq"], "tz": d.get("tz", "UTC"),
            "fill": d.get("fill"), "holidays": None, "events": None, "future_marks": False,
            "seq_len": d["seq_len"], "pred_len": d["pred_len"], "skipped": [],
            "dataset": d.get("dataset"),
        },
        "scalers": [{"id": None, "mean": d["scaler"]["mean"], "scale": d["scaler"]["scale"]}],
    }


def score_predictions(data, predictions, y):
    """Errors of each method's test predictions: `metrics` (overall), `holiday_days` (steps on
    a holiday of `data.eval_holidays`, when set) and `per_series` (long tables)."""
    t = data.target_output
    mean, scale = data.target_scales("test")
    flags = data.step_holidays("test")
    result = {"metrics": {}}
    if flags is not None:
        result["holiday_days"] = {}
        result["holiday_steps"] = int(flags.sum())
    if data.long:
        result["per_series"] = {_key(p.id): {} for p in data.parts}
    which = data.window_parts("test")
    for name, pred in predictions.items():
        if pred is None:
            result["metrics"][name] = None
            if flags is not None:
                result["holiday_days"][name] = None
            for per in result.get("per_series", {}).values():
                per[name] = None
            continue
        metrics = target_metrics(pred[..., t], y[..., t], mean, scale)
        if len(data.outputs) > 1:
            scaled = errors(pred, y)
            metrics["all_columns_scaled"] = scaled
        result["metrics"][name] = metrics
        if flags is not None:
            result["holiday_days"][name] = target_metrics(pred[..., t], y[..., t], mean, scale, mask=flags)
        for k, part in enumerate(data.parts if data.long else []):
            rows = which == k
            result["per_series"][_key(part.id)][name] = target_metrics(
                pred[rows][..., t], y[rows][..., t], mean[rows], scale[rows])
    return result
