"""`model="auto"`: fit a set of candidate forecasters, keep the one with the lowest validation MSE.

The closed-form candidates (`CLOSED_FORM`: CycleLinear with and without RevIN,
RLinear, DLinear, each a ridge fit whose penalty is picked on validation)
are always fitted: a second or two each. The neural candidates (`NEURAL`)
train in turn, sharing a budget of CPU seconds (`BUDGET_S` by default): each
gets the budget left over divided by the candidates left, and stops after the
batch that spends it (early stopping on validation still restores its best
weights). The budget counts this process's CPU time (all its threads), not
wall time: on an idle machine the neural candidates take at most that many
wall seconds, and on a busy one they get the same training, so the choice
does not depend on what else the machine runs. Every candidate is scored by its MSE over the validation windows
(scaled units); the lowest wins. The test split is never read here.

A candidate that cannot be built for the data (e.g. TimeMixer when `seq_len`
is not a multiple of its down-sampling) is listed as skipped, with the reason.
"""

import time

import numpy as np

CLOSED_FORM = (
    ("linear", {}),
    ("linear", {"revin": True}),
    ("rlinear", {}),
    ("dlinear", {}),
)
NEURAL = (
    ("timemixer", {}),
    ("patchtst", {}),
    ("itransformer", {}),
)
BUDGET_S = 600.0


def label(name, hparams):
    """`"linear"`, `"linear(revin=True)"`: a candidate's name as reports show it."""
    return name + ("(" + ", ".join(f"{k}={v!r}" for k, v in hparams.items()) + ")" if hparams else "")


def time_budget(seconds):
    """A Keras callback that stops `fit` after the batch at which `seconds` of this process's CPU time are spent.

    CPU time (`time.process_time`, all threads) rather than wall time, so
    that other processes on the machine do not shorten the training.
    """
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            if time.process_time() - self.start > seconds:
                self.model.stop_training = True

    return TimeBudget()


def validation_mse(model, val, batch_size=256):
    """MSE of `model` over the validation windows `val = (inputs, y)`, in float64."""
    inputs, y = val
    pred = np.asarray(model.predict(list(inputs), batch_size=batch_size, verbose=0), "float64")
    return float(np.mean((pred - np.asarray(y, "float64")) ** 2))


def select(build, train, train_arrays, val_arrays, *, budget_s=BUDGET_S, closed_form=None, neural=None,
           on_fitted=None):
    """Fits every candidate and returns `(model, choice, table)`.

    Args:
        build: `(name, hparams, compile) -> model`, compiled when `compile` (the neural
            candidates), or raising `ValueError`/`TypeError` when the candidate does not fit the data.
        train: `(model, callbacks) -> None`, the neural training (fit with early stopping
            on validation); `callbacks` (the time budget) are added to its own.
        train_arrays, val_arrays: `(inputs, y)` of the training and validation windows.
        budget_s: CPU seconds (this process, all threads) shared by the neural candidates.
        closed_form, neural: `(name, hparams)` candidates (default: `CLOSED_FORM`, `NEURAL`).
        on_fitted: called as `on_fitted(row, model)` after each candidate is scored (e.g. a
            benchmark scoring every candidate on test after the fact; the choice never sees it).

    Returns:
        The chosen trained model, its `(name, hparams)`, and one dict per candidate:
        `candidate`, `model`, `hparams`, `fit` ("closed form", "gradient" or "skipped"),
        `val_mse`, `train_s` (wall seconds), `cpu_s` (CPU seconds), `chosen`, and `reason` when skipped.
    """
    from kerasfactory.models import fit_least_squares

    closed_form = CLOSED_FORM if closed_form is None else tuple(closed_form)
    neural = NEURAL if neural is None else tuple(neural)
    table, best = [], None
    neural_left, neural_spent = len(neural), 0.0
    for name, hparams in [*closed_form, *neural]:
        is_neural = (name, hparams) in neural
        row = {"candidate": label(name, hparams), "model": name, "hparams": dict(hparams),
               "fit": "gradient" if is_neural else "closed form", "val_mse": None, "train_s": 0.0, "cpu_s": 0.0}
        table.append(row)
        start, cpu_start = time.monotonic(), time.process_time()
        try:
            model = build(name, dict(hparams), is_neural)
        except (ValueError, TypeError) as err:
            row.update(fit="skipped", reason=str(err))
            neural_left -= is_neural
            continue
        if is_neural:
            share = max(budget_s - neural_spent, 0.0) / neural_left
            train(model, [time_budget(share)])
        else:
            fit_least_squares(model, train_arrays, val_arrays)
        row["train_s"] = time.monotonic() - start
        row["cpu_s"] = time.process_time() - cpu_start
        row["val_mse"] = validation_mse(model, val_arrays)
        if is_neural:
            neural_spent += row["cpu_s"]
            neural_left -= 1
        if on_fitted is not None:
            on_fitted(row, model)
        if not np.isfinite(row["val_mse"]):
            row.update(fit="skipped", reason="non-finite validation MSE")
        elif best is None or row["val_mse"] < best[0]["val_mse"]:
            best = (row, model)
    if best is None:
        reasons = "; ".join(f"{r['candidate']}: {r.get('reason')}" for r in table)
        raise ValueError(f"`model='auto'` found no candidate that fits the data: {reasons}")
    best[0]["chosen"] = True
    for row in table:
        row.setdefault("chosen", False)
    return best[1], (best[0]["model"], best[0]["hparams"]), table
