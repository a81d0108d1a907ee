"""ETTh1 long-horizon benchmark under the literature's protocol.

    python benchmarks/ett.py --csv ../shared/data/ETT-small/ETTh1.csv \
        [--pred-len 96 192 336 720] [--model linear] [--epochs 10] \
        [--hparams '{"d_model": 64}'] [--seed 0] [--json PATH]

Protocol (Time-Series-Library `Dataset_ETT_hour`): train = first 12 months of
30 days (8,640 rows), validation = next 4 months, test = next 4 months, each
later split's windows looking back `seq_len` rows into the previous one; a
standard scaler fitted on the training rows; multivariate (`M`: 7 variates
in, 7 out); seq_len 96; MSE and MAE in scaled units over every test window,
stride 1 (no dropped last batch). Loading, splitting, scaling and windowing
are `kerasfactory.data` (`load_series`, `prepare(split="ett")`).

Training: Adam on MSE, the learning rate halved every epoch (TSLib's
`lradj="type1"`), early stopping on the validation MSE with the best weights
restored, and a time budget (`--time-budget`, seconds of this process's
CPU time divided by the number of cores, i.e. wall time on an idle machine)
after which training stops at the end of the current epoch (the best-on-validation
weights are still the ones kept). Every choice — epochs, weights — is made on
validation; the test split is touched once, at the end.

`--ensemble MODEL[:LOSS] ...` trains each model (seeds --seed, --seed+1, ...),
the time budget shared between them, and scores the plain mean of their
forecasts (no weights, no member picked on any split).

`--model linear` (the default) is CycleLinear fitted in closed form
(`kerasfactory.models.fit_least_squares`: the daily cycle and the least-squares
map from the training windows, the ridge penalty picked on validation); every
other model trains with `fit` as above.

Measured 96->96 (this 2-core CPU, Nov 26 2026; "train s" wall clock):

    model                      val MSE  test MSE/MAE  train s
    linear (CycleLinear)         0.651   0.369/0.391        2   <- default, same on every backend
    itransformer (defaults)      0.688   0.396/0.412       53
    itransformer, loss mae       0.685   0.385/0.398       54
    patchtst (defaults)          0.689   0.391/0.402       58
    patchtst, loss mae           0.695   0.393/0.394       80
    transformer (budget-cut)     0.728   0.430/0.437      151
    ensemble of the five neural  0.674   0.382/0.397      396

CycleLinear meets the issue's target (test MSE <= 0.370) by a thin margin
(0.3693); docs/benchmarks.md says which validation-preferred variants land
above it. Longer horizons (linear): 192 -> 0.413, 336 -> 0.449, 720 -> 0.477.

The published 96->96 figures printed beside ours (seq_len 96, same
protocol) are those quoted in the project's issue 7, from the TimeMixer and
iTransformer papers (ICLR 2024) and the baselines in their tables.
"""

import argparse
import json
import os
import sys
import time

PUBLISHED_96 = {  # model: (MSE, MAE) on ETTh1, 96 -> 96, seq_len 96
    "TimeMixer": (0.375, 0.400),
    "iTransformer": (0.386, 0.405),
    "DLinear": (0.386, 0.400),
    "PatchTST": (0.414, 0.419),
    "Informer": (0.865, 0.713),
}
SEQ_LEN = 96


def _stop_after(keras, budget):
    """Stops `fit` at an epoch end once `budget` seconds of this process's CPU time / cores are spent.

    CPU time over the core count is the wall time training takes on an idle
    machine; it is the clock used so that other work on a shared machine
    does not cut training short.
    """
    cores = os.cpu_count() or 1

    class StopAfter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            if (time.process_time() - self.start) / cores > budget:
                self.model.stop_training = True

    return StopAfter()


def members(args):
    """`(model, loss)` for each model to train: `--ensemble SPEC...` or the one `--model`/`--loss`."""
    if not args.ensemble:
        return [(args.model, args.loss)]
    return [tuple(spec.split(":")) if ":" in spec else (spec, args.loss) for spec in args.ensemble]


def train_member(args, data, model_name, loss, seed, budget, keras):
    """Trains one model; returns its validation and test predictions and its figures."""
    from kerasfactory.models import build_model

    (x_tr, m_tr), y_tr = data.datasets["train"].arrays()
    (x_va, m_va), y_va = data.datasets["val"].arrays()
    (x_te, m_te), _ = data.datasets["test"].arrays()
    model = build_model(
        model_name, seq_len=SEQ_LEN, pred_len=data.pred_len, n_vars=x_tr.shape[-1],
        mark_dim=m_tr.shape[-1], freq=data.freq, seed=seed, **json.loads(args.hparams),
    )
    if model_name == "linear":
        return train_linear(model, data, seed)
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss=loss, metrics=["mse"])
    callbacks = [
        keras.callbacks.EarlyStopping("val_mse", patience=args.patience, restore_best_weights=True),
        keras.callbacks.LearningRateScheduler(lambda epoch: args.lr * 0.5**epoch),
        _stop_after(keras, budget),
    ]
    start, cpu_start = time.perf_counter(), time.process_time()
    history = model.fit(
        [x_tr, m_tr], y_tr, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
        validation_data=([x_va, m_va], y_va), callbacks=callbacks, verbose=args.verbose,
    )
    val = history.history["val_mse"]
    info = {
        "model": model_name, "loss": loss, "seed": seed, "best_epoch": int(val.index(min(val))) + 1,
        "epochs_run": len(val), "train_s": time.perf_counter() - start,
        "train_cpu_s": time.process_time() - cpu_start, "params": int(model.count_params()),
    }
    predict = lambda x, m: model.predict([x, m], batch_size=256, verbose=0).astype("float64")  # noqa: E731
    return predict(x_va, m_va), predict(x_te, m_te), info


def train_linear(model, data, seed):
    """CycleLinear in closed form: the cycle and the least-squares map from the
    training windows, the ridge penalty chosen on validation (`fit_least_squares`)."""
    from kerasfactory.models import fit_least_squares

    train, val = data.datasets["train"].arrays(), data.datasets["val"].arrays()
    start, cpu_start = time.perf_counter(), time.process_time()
    fitted = fit_least_squares(model, train, val)
    info = {
        "model": "linear", "loss": "least squares", "seed": seed, "best_epoch": 1, "epochs_run": 1,
        "train_s": time.perf_counter() - start, "train_cpu_s": time.process_time() - cpu_start,
        "params": int(model.count_params()), "ridge_alpha": fitted["alpha"],
    }
    predict = lambda split: model.predict(list(data.datasets[split].arrays()[0]), batch_size=256, verbose=0)  # noqa: E731
    return predict("val").astype("float64"), predict("test").astype("float64"), info


def run_one(args, pred_len, keras, np):
    from kerasfactory.data import load_series, prepare

    series = load_series(args.csv)
    data = prepare(
        series, target="OT", features="M", seq_len=SEQ_LEN, pred_len=pred_len,
        batch_size=args.batch_size, split="ett", seed=args.seed,
    )
    y_va = data.datasets["val"].arrays()[1].astype("float64")
    y_te = data.datasets["test"].arrays()[1].astype("float64")
    specs = members(args)
    budget = args.time_budget / len(specs)  # the time limit covers the whole ensemble
    val_preds, test_preds, infos = [], [], []
    for i, (model_name, loss) in enumerate(specs):
        val_pred, test_pred, info = train_member(args, data, model_name, loss, args.seed + i, budget, keras)
        info["val_mse"] = float(np.mean((val_pred - y_va) ** 2))
        info["mse"] = float(np.mean((test_pred - y_te) ** 2))
        info["mae"] = float(np.mean(np.abs(test_pred - y_te)))
        val_preds.append(val_pred)
        test_preds.append(test_pred)
        infos.append(info)
    # The ensemble is the plain mean of every member: no weights or members picked on any split.
    err = np.mean(test_preds, axis=0) - y_te
    return {
        "pred_len": pred_len,
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(np.abs(err))),
        "val_mse": float(np.mean((np.mean(val_preds, axis=0) - y_va) ** 2)),
        "best_epoch": max(m["best_epoch"] for m in infos),
        "epochs_run": max(m["epochs_run"] for m in infos),
        "train_s": sum(m["train_s"] for m in infos),
        "train_cpu_s": sum(m["train_cpu_s"] for m in infos),
        "test_windows": int(len(y_te)),
        "members": infos,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", required=True, help="path to ETTh1.csv")
    parser.add_argument("--pred-len", type=int, nargs="+", default=[96])
    parser.add_argument("--model", default="linear")
    parser.add_argument("--hparams", default="{}", help="JSON object of model hyperparameters")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--loss", default="mse", choices=["mse", "mae"])
    parser.add_argument("--ensemble", nargs="+", metavar="MODEL[:LOSS]",
                        help="train each of these (seeds --seed, --seed+1, ...) and average their forecasts")
    parser.add_argument("--time-budget", type=float, default=540.0,
                        help="CPU seconds / cores of training per horizon after which no new epoch starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.csv):
        parser.exit(2, f"ett.py: no such file: {args.csv}\n")

    import keras
    import numpy as np

    from kerasfactory.models import MODELS

    for name, loss in members(args):
        if name not in MODELS or loss not in ("mse", "mae"):
            parser.exit(2, f"ett.py: models must be among {', '.join(MODELS)} with loss mse or mae, "
                           f"got {name!r}:{loss!r}\n")
    rows = [run_one(args, p, keras, np) for p in args.pred_len]

    backend = keras.backend.backend()
    label = "ensemble" if args.ensemble else args.model
    print(f"\nETTh1, M, seq_len {SEQ_LEN}; backend {backend}; "
          f"{'ensemble of ' + ' '.join(args.ensemble) if args.ensemble else 'model ' + args.model} {args.hparams}")
    print(f"{'model':<24}{'horizon':>8}{'MSE':>8}{'MAE':>8}{'val MSE':>9}{'epochs':>8}{'train s':>9}{'CPU s':>8}")
    for r in rows:
        for m in r["members"] if args.ensemble else []:
            print(f"{'  ' + m['model'] + ':' + m['loss']:<24}{r['pred_len']:>8}{m['mse']:>8.3f}{m['mae']:>8.3f}"
                  f"{m['val_mse']:>9.3f}{m['best_epoch']:>4}/{m['epochs_run']:<3}{m['train_s']:>9.1f}"
                  f"{m['train_cpu_s']:>8.0f}")
        print(f"{'kerasfactory ' + label:<24}{r['pred_len']:>8}{r['mse']:>8.3f}{r['mae']:>8.3f}"
              f"{r['val_mse']:>9.3f}{r['best_epoch']:>4}/{r['epochs_run']:<3}{r['train_s']:>9.1f}{r['train_cpu_s']:>8.0f}")
    for name, (mse, mae) in PUBLISHED_96.items():
        print(f"{name + ' (published)':<24}{96:>8}{mse:>8.3f}{mae:>8.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"backend": backend, "args": vars(args), "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
