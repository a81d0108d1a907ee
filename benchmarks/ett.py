"""ETTh1 long-horizon benchmark under the literature's protocol.

    python benchmarks/ett.py --csv ../shared/data/ETT-small/ETTh1.csv \
        [--pred-len 96 192 336 720] [--model auto] [--epochs 10] \
        [--hparams '{"d_model": 64}'] [--seed 0] [--json PATH]

Protocol (Time-Series-Library `Dataset_ETT_hour`): train = first 12 months of
30 days (8,640 rows), validation = next 4 months, test = next 4 months, each
later split's windows looking back `seq_len` rows into the previous one; a
standard scaler fitted on the training rows; multivariate (`M`: 7 variates
in, 7 out); seq_len 96; MSE and MAE in scaled units over every test window,
stride 1 (no dropped last batch). Loading, splitting, scaling and windowing
are `kerasfactory.data` (`load_series`, `prepare(split="ett")`).

`--model auto` (the default) is what `kerasfactory forecast` does: every
candidate of `kerasfactory.forecast.auto` is fitted (the linear ones in closed
form, the neural ones within `--time-budget` CPU seconds in all) and the
one with the lowest validation MSE is scored on test; the table lists every
candidate's validation MSE. A model with a closed form (`linear`, `rlinear`,
`dlinear`) pinned with `--model` is fitted in closed form; any other trains with:

Adam on `--loss` (epsilon `--adam-epsilon`), the learning rate `--lr` kept for
two epochs then halved every epoch (TSLib's `lradj="type1"`; `--lradj
type1-early` halves from the second epoch, as this script did before 0.4),
early stopping on the validation MSE (`--patience`) with the best weights
restored, and the time budget. The weights start from PyTorch's draw
(`build_model(init="torch")`, as `Forecaster` does; `--init keras` for Keras').
Time-Series-Library's recipe for iTransformer, for instance, is `--model
itransformer --lr 1e-4 --adam-epsilon 1e-8 --hparams '{"d_model": 128,
"n_heads": 8, "d_ff": 128, "revin_affine": false}'`.
Every choice (model, epochs, weights, ridge penalty) is made on validation; the
test split is touched once, at the end.

`--ensemble MODEL[:LOSS] ...` trains each model (seeds --seed, --seed+1, ...),
the time budget shared between them, and scores the plain mean of their
forecasts (no weights, no member picked on any split).

docs/benchmarks.md holds the measured table. The published 96->96 figures
printed beside ours (seq_len 96, same protocol) are from the TimeMixer and
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
# Halvings of the learning rate before 0-based epoch `e`: TSLib's `type1` keeps it for two epochs, then
# halves it every epoch; "type1-early" (this script before 0.4) halved it from the second epoch on.
LRADJ = {"type1": lambda e: max(e - 1, 0), "type1-early": lambda e: e}


def members(args):
    """`(model, loss)` for each model to train: `--ensemble SPEC...` or the one `--model`/`--loss`."""
    if not args.ensemble:
        return [(args.model, args.loss)]
    return [tuple(spec.split(":")) if ":" in spec else (spec, args.loss) for spec in args.ensemble]


def train_member(args, data, model_name, loss, seed, budget, keras):
    """Trains one model (or, for "auto", chooses one on validation); returns its validation and
    test predictions and its figures."""
    from kerasfactory.forecast import auto
    from kerasfactory.models import build_model, fit_least_squares, has_closed_form

    train, val = data.datasets["train"].arrays(), data.datasets["val"].arrays()
    (x_tr, m_tr), y_tr = train
    hparams = json.loads(args.hparams)

    def build(name, hp, compile=True):
        model = build_model(
            name, seq_len=SEQ_LEN, pred_len=data.pred_len, n_vars=x_tr.shape[-1], mark_dim=m_tr.shape[-1],
            freq=data.freq, seed=seed, init=args.init, **hp,
        )
        if compile:  # auto passes False for the closed-form candidates, which no optimizer trains
            model.compile(optimizer=keras.optimizers.Adam(args.lr, epsilon=args.adam_epsilon), loss=loss, metrics=["mse"])
        return model

    def fit(model, extra=()):
        halvings = LRADJ[args.lradj]
        callbacks = [
            keras.callbacks.EarlyStopping("val_mse", patience=args.patience, restore_best_weights=True),
            keras.callbacks.LearningRateScheduler(lambda epoch: args.lr * 0.5 ** halvings(epoch)),
            *extra,
        ]
        return model.fit(list(train[0]), train[1], batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                         validation_data=val, callbacks=callbacks, verbose=args.verbose).history["val_mse"]

    start, cpu_start = time.perf_counter(), time.process_time()
    info = {"model": model_name, "loss": loss, "seed": seed, "best_epoch": 1, "epochs_run": 1}
    if model_name == "auto":
        model, (name, hp), table = auto.select(build, fit, train, val, budget_s=budget)
        info.update(choice=auto.label(name, hp), candidates=table)
    else:
        model = build(model_name, hparams)
        if has_closed_form(model):
            fitted = fit_least_squares(model, train, val)
            info.update(loss="least squares", ridge_alpha=fitted["alpha"])
        else:
            history = fit(model, [auto.time_budget(budget)])
            info.update(best_epoch=int(history.index(min(history))) + 1, epochs_run=len(history))
    info.update(train_s=time.perf_counter() - start, train_cpu_s=time.process_time() - cpu_start,
                params=int(model.count_params()))
    predict = lambda split: model.predict(  # noqa: E731
        list(data.datasets[split].arrays()[0]), batch_size=256, verbose=0).astype("float64")
    return predict("val"), predict("test"), info


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
    parser.add_argument("--model", default="auto", help="'auto' (chosen on validation) or a model name")
    parser.add_argument("--hparams", default="{}", help="JSON object of model hyperparameters")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--loss", default="mse", choices=["mse", "mae"])
    parser.add_argument("--lradj", default="type1", choices=sorted(LRADJ), help="learning-rate schedule")
    parser.add_argument("--adam-epsilon", type=float, default=1e-7, help="Keras' default; PyTorch's is 1e-8")
    parser.add_argument("--init", default="torch", choices=["keras", "torch"],
                        help="initial weights as Keras or as PyTorch draws them (build_model's init)")
    parser.add_argument("--ensemble", nargs="+", metavar="MODEL[:LOSS]",
                        help="train each of these (seeds --seed, --seed+1, ...) and average their forecasts")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="CPU seconds of gradient training per horizon (default: auto's budget)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.csv):
        parser.exit(2, f"ett.py: no such file: {args.csv}\n")

    import keras
    import numpy as np

    from kerasfactory.models import MODELS

    from kerasfactory.forecast import auto

    if args.time_budget is None:
        args.time_budget = auto.BUDGET_S
    for name, loss in members(args):
        if name not in (*MODELS, "auto") or loss not in ("mse", "mae"):
            parser.exit(2, f"ett.py: models must be among {', '.join(MODELS)} with loss mse or mae, "
                           f"got {name!r}:{loss!r}\n")
    rows = [run_one(args, p, keras, np) for p in args.pred_len]

    backend = keras.backend.backend()
    label = "ensemble" if args.ensemble else args.model
    print(f"\nETTh1, M, seq_len {SEQ_LEN}; backend {backend}; "
          f"{'ensemble of ' + ' '.join(args.ensemble) if args.ensemble else 'model ' + args.model} {args.hparams}")
    print(f"{'model':<24}{'horizon':>8}{'MSE':>8}{'MAE':>8}{'val MSE':>9}{'epochs':>8}{'train s':>9}{'CPU s':>8}")
    for r in rows:
        for c in r["members"][0].get("candidates", []) if not args.ensemble else []:
            mark = "  <- chosen" if c["chosen"] else ("  skipped: " + c.get("reason", "")[:50] if c["fit"] == "skipped" else "")
            print(f"{'  ' + c['candidate']:<24}{r['pred_len']:>8}{'':>16}{c['val_mse'] or float('nan'):>9.3f}"
                  f"{'':>8}{c['train_s']:>9.1f}{mark}")
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
