"""Whole forecasters on ETTh1 96 -> 96: time per training and predict batch, peak memory, against PyTorch.

    python benchmarks/forecasters.py [--csv ETTh1.csv] [--models ...] [--backends jax tensorflow torch]
                                     [--rounds 1] [--epochs 1] [--max-batches N] [--synthetic]
                                     [--shapes 96x7 336x7 720x7 96x21 96x321] [--compile NAME=VALUE]
                                     [--tree PATH | --ab OLD_TREE] [--json PATH]

For each forecaster of `kerasfactory.models.MODELS`, with Time-Series-Library's
published ETTh1 hyperparameters for that model (`TSLIB` below; batch 32), on
the TSLib ETTh1 protocol (12/4/4 months of 30 days, standard scaling fitted on
the training rows, timeF marks, windows 96 -> 96 with stride 1: 8,449
training and 2,785 test windows, from `kerasfactory.data`), it measures:

- train s/batch: one `model.fit(x, y, batch_size=32, epochs=1, shuffle=True)`
  over the whole training split, numpy arrays in, divided by its batches,
  after a first (warm-up) epoch whose extra time, the compilation, is
  reported as `first_epoch_extra_s`; compiled by
  `kerasfactory.models.compile_model(model, learning_rate=lr)` (Adam, MSE and
  the backend's `compile_options()`: what the `Forecaster` and the CLI do;
  `--compile NAME=VALUE` adds or overrides compile arguments, e.g.
  `steps_per_execution=1` for Keras's own defaults); the median over
  `--epochs` timed epochs;
- predict s/batch: `model.predict(x_test, batch_size=32)` over the whole test
  split, divided by its batches, after one warm-up call;
- peak MiB: the worker process's peak resident memory (`VmHWM`, see
  `harness.peak_mib`; `ru_maxrss` would carry the driver's peak over the
  fork). Every measurement runs in a fresh process, so the peak is that of one
  model on one backend (with its data, imports and compiled functions).

Beside each Keras backend (`KERAS_BACKEND` per process), the same architecture
written in PyTorch (`torch_forecasters.py`, `torch.set_num_threads(os.cpu_count())`)
is trained the way TSLib's `exp/exp_long_term_forecasting.py` does: a
`DataLoader(shuffle=True, batch_size=32, drop_last=False)` and per batch
`model.train(); optimizer.zero_grad(); loss = MSE(model(x, mark), y);
loss.backward(); optimizer.step()`; prediction in `model.eval()` under
`torch.no_grad()` over the test loader. Ratios are Keras / PyTorch (below 1:
faster or smaller than PyTorch).

Processes run one after another, never side by side. `--rounds N` repeats the
whole sequence (per model: PyTorch, then each backend) and reports medians.
`--tree PATH` imports `kerasfactory` from another checkout of this repo on the
Keras side. `--ab OLD_TREE` runs every Keras measurement twice in each round,
with this tree and then with OLD_TREE (e.g. `git worktree add /tmp/old HEAD~1`),
and adds a table of new/old ratios per round: median and min-max over rounds.
`--max-batches N` cuts both splits to N batches, for quick runs; `--synthetic`
uses random data of the same shapes instead of the CSV. `--shapes` adds the
growth: random data of other `seq_len x variates` shapes (the same window
counts, cut to 40 batches without `--max-batches`), each measured as above, and a table of every shape's ratios to
PyTorch (a ratio that does not rise with the shape: our time and memory grow
no faster than the reference's). The data, and the
PyTorch side's sizes (TSLIB over the builders' defaults), come from this checkout.

Before and after a change to the layers, e.g.:

    git worktree add /tmp/old HEAD      # before editing; then, after:
    python benchmarks/forecasters.py --ab /tmp/old --rounds 3 --json ab.json

On this repo's 2-core CPU one whole-split epoch of the Transformer takes
minutes per process (d_model 512, d_ff 2048); `--max-batches` keeps a full
comparison to minutes.
"""

import inspect
import os
import sys
import tempfile
import time

import harness

SEQ_LEN, PRED_LEN, N_VARS, MARK_DIM, BATCH = 96, 96, 7, 4, 32
SHAPE = f"{SEQ_LEN}x{N_VARS}"  # ETTh1's: the main table's
GROWTH_BATCHES = 40  # batches per split of the other shapes (without --max-batches): 96x321 in full is gigabytes
WINDOWS = {"train": 8449, "test": 2785}  # ETTh1 96 -> 96 under the TSLib borders: rows - 96 - 96 + 1
CSV = os.path.join(os.path.dirname(harness.ROOT), "shared", "data", "ETT-small", "ETTh1.csv")

# Time-Series-Library's ETTh1 96 -> 96 settings (github.com/thuml/Time-Series-Library,
# scripts/long_term_forecast/ETT_script/<Model>_ETTh1.sh, the pred_len 96 run), in our names
# (e_layers -> n_layers). What a script leaves out is run.py's default: d_model 512, n_heads 8,
# e_layers 2, d_ff 2048, dropout 0.1, activation gelu, learning_rate 1e-4, batch_size 32.
# A model missing here (one added later) runs with its defaults and lr 1e-4.
TSLIB = {
    # Transformer_ETTh1.sh: --e_layers 2 (and --d_layers 1, --factor 3: no decoder or sparse attention here)
    "transformer": {"hparams": {"d_model": 512, "n_heads": 8, "n_layers": 2, "d_ff": 2048, "dropout": 0.1},
                    "lr": 1e-4},
    # iTransformer_ETTh1.sh: --e_layers 2 --d_model 128 --d_ff 128
    "itransformer": {"hparams": {"d_model": 128, "n_heads": 8, "n_layers": 2, "d_ff": 128, "dropout": 0.1},
                     "lr": 1e-4},
    # PatchTST_ETTh1.sh: --e_layers 1 --n_heads 2; models/PatchTST.py: patch_len 16, stride 8,
    # FlattenHead(head_dropout=configs.dropout)
    "patchtst": {"hparams": {"d_model": 512, "n_heads": 2, "n_layers": 1, "d_ff": 2048, "dropout": 0.1,
                             "patch_len": 16, "stride": 8, "head_dropout": 0.1},
                 "lr": 1e-4},
    # No CycleLinear in TSLib: DLinear_ETTh1.sh's recipe (run.py's lr 1e-4), the model's own defaults.
    "linear": {"hparams": {}, "lr": 1e-4},
    # No RLinear in TSLib (no RLinear_ETTh1.sh): DLinear_ETTh1.sh's recipe (run.py's lr 1e-4, batch 32),
    # the model's own defaults (RevIN with affine, as the paper).
    "rlinear": {"hparams": {}, "lr": 1e-4},
    # DLinear_ETTh1.sh: nothing DLinear reads (its --e_layers, --d_layers, --factor are unused): run.py's
    # --moving_avg 25, models/DLinear.py's individual=False, lr 1e-4.
    "dlinear": {"hparams": {"moving_avg": 25, "individual": False}, "lr": 1e-4},
    # TimeMixer_ETTh1.sh: --d_model 16 --d_ff 32 --e_layers 2 --down_sampling_layers 3 --down_sampling_window 2
    # --down_sampling_method avg --learning_rate 0.01 (run.py: --dropout 0.1, --moving_avg 25,
    # --decomp_method moving_avg, --channel_independence 1, --use_norm 1). Its --batch_size 128 is not
    # followed: every model here runs at BATCH (32).
    "timemixer": {"hparams": {"d_model": 16, "d_ff": 32, "n_layers": 2, "dropout": 0.1, "down_sampling_layers": 3,
                              "down_sampling_window": 2, "down_sampling_method": "avg", "moving_avg": 25},
                  "lr": 0.01},
}


# ---------------------------------------------------------------- data (driver)


def parse_shape(text):
    """`"336x21"` -> `(336, 21)`: seq_len and variates."""
    seq_len, n_vars = (int(v) for v in text.lower().split("x"))
    if seq_len < 16 or seq_len % 8 or n_vars < 1:
        raise ValueError(f"a shape must be SEQxVARS with seq_len a multiple of 8 (>= 16), got {text!r}")
    return seq_len, n_vars


def ett_arrays(csv):
    """Train and test windows of ETTh1 as numpy arrays, the TSLib protocol (`kerasfactory.data`)."""
    from kerasfactory.data import load_series, prepare

    data = prepare(load_series(csv), target="OT", features="M", seq_len=SEQ_LEN, pred_len=PRED_LEN, split="ett")
    arrays = {}
    for split in WINDOWS:
        (x, mark), y = data.datasets[split].arrays()
        arrays.update({f"x_{split}": x, f"mark_{split}": mark, f"y_{split}": y})
    return arrays


def synthetic_arrays(seed=0, seq_len=SEQ_LEN, n_vars=N_VARS, windows=None):
    """Random arrays of the shapes `ett_arrays` gives, or of `seq_len x n_vars` (marks in timeF's [-0.5, 0.5])."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (windows or WINDOWS).items():
        arrays[f"x_{split}"] = rng.standard_normal((n, seq_len, n_vars), dtype="float32")
        arrays[f"mark_{split}"] = rng.uniform(-0.5, 0.5, (n, seq_len, MARK_DIM)).astype("float32")
        arrays[f"y_{split}"] = rng.standard_normal((n, PRED_LEN, n_vars), dtype="float32")
    return arrays


def write_data(args, folder, shape=SHAPE):
    """Saves the arrays every worker of `shape` loads (cut to `--max-batches`); returns the path and window counts."""
    import numpy as np

    cap = args.max_batches or (None if shape == SHAPE else GROWTH_BATCHES)
    windows = {split: min(n, cap * BATCH) if cap else n for split, n in WINDOWS.items()}
    if shape == SHAPE and not args.synthetic:
        arrays = {key: a[: windows[key.split("_")[1]]] for key, a in ett_arrays(args.csv).items()}
    else:
        seq_len, n_vars = parse_shape(shape)
        arrays = synthetic_arrays(seq_len=seq_len, n_vars=n_vars, windows=windows)
    path = os.path.join(folder, f"windows_{shape}.npz")
    np.savez(path, **arrays)
    return path, {split: len(arrays[f"x_{split}"]) for split in WINDOWS}


# ---------------------------------------------------------------- workers


def clock(fn):
    """Wall and CPU seconds (all the process's threads) of `fn()`."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


def timings(epoch, predict, epochs, batches):
    """A warm-up epoch, `epochs` timed ones, a warm-up predict and `epochs` timed ones; the peak memory.

    Medians of the wall times, whole and per batch (`batches`: training and
    test batches), and of the CPU times (`*_cpu_s`, JSON only: less sensitive
    than wall time to other work on a shared machine).
    """
    first = clock(epoch)[0]
    epoch_s, epoch_cpu_s = zip(*(clock(epoch) for _ in range(epochs)))
    first_predict = clock(predict)[0]
    predict_s, predict_cpu_s = zip(*(clock(predict) for _ in range(epochs)))
    return {
        "epoch_s": harness.median(epoch_s), "epochs_s": epoch_s, "epoch_cpu_s": harness.median(epoch_cpu_s),
        "batch_s": harness.median(epoch_s) / batches["train"],
        "first_epoch_extra_s": first - harness.median(epoch_s),
        "predict_s": harness.median(predict_s), "predicts_s": predict_s,
        "predict_cpu_s": harness.median(predict_cpu_s),
        "predict_batch_s": harness.median(predict_s) / batches["test"],
        "first_predict_extra_s": first_predict - harness.median(predict_s),
        "peak_mib": harness.peak_mib(),
    }


def n_batches(data):
    return {split: -(-len(data[f"x_{split}"]) // BATCH) for split in WINDOWS}


def keras_model(job):
    """The job's `kerasfactory` model, built and compiled as the Forecaster compiles it (and `--compile`)."""
    import keras

    from kerasfactory import models

    model = models.build_model(job["model"], seq_len=job["seq_len"], pred_len=PRED_LEN, n_vars=job["n_vars"],
                               mark_dim=MARK_DIM, freq="h", seed=0, **job["hparams"])
    if hasattr(models, "compile_model"):
        models.compile_model(model, learning_rate=job["lr"], loss="mse", **job.get("compile", {}))
    else:  # a checkout (--tree, --ab) from before compile_model: Keras's defaults
        model.compile(optimizer=keras.optimizers.Adam(job["lr"]), loss="mse", **job.get("compile", {}))
    return model


def keras_loops(model, data):
    """One training epoch (`fit`, shuffled) and one `predict` over the test split: what a user runs."""
    train, y = [data["x_train"], data["mark_train"]], data["y_train"]
    test = [data["x_test"], data["mark_test"]]
    return (lambda: model.fit(train, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0),
            lambda: model.predict(test, batch_size=BATCH, verbose=0))


def keras_side(job, data):
    """`fit` and `predict` of the `kerasfactory` model, compiled as the Forecaster compiles it (and `--compile`)."""
    backend = harness.keras_process()
    import kerasfactory

    model = keras_model(job)
    result = timings(*keras_loops(model, data), job["epochs"], n_batches(data))
    tree = os.path.dirname(os.path.dirname(os.path.abspath(kerasfactory.__file__)))
    return {**result, "params": int(model.count_params()), "backend": backend, "tree": tree}


def torch_model(job):
    """The PyTorch version of the job's model (`job["hparams"]`: every size) and its Adam optimizer."""
    import torch

    import torch_forecasters

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = torch_forecasters.build(job["model"], seq_len=job["seq_len"], pred_len=PRED_LEN, n_vars=job["n_vars"],
                                    mark_dim=MARK_DIM, **job["hparams"])
    return model, torch.optim.Adam(model.parameters(), lr=job["lr"])


def torch_loops(model, optimizer, data):
    """One training epoch and one predict over the test split, as TSLib's `exp_long_term_forecasting.py`."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    criterion = torch.nn.MSELoss()
    tensors = {key: torch.from_numpy(data[key]) for key in data}
    train = DataLoader(TensorDataset(tensors["x_train"], tensors["mark_train"], tensors["y_train"]),
                       batch_size=BATCH, shuffle=True, drop_last=False)
    test = DataLoader(TensorDataset(tensors["x_test"], tensors["mark_test"]), batch_size=BATCH, shuffle=False)

    def epoch():
        model.train()
        for x, mark, y in train:
            optimizer.zero_grad()
            loss = criterion(model(x, mark), y)
            loss.item()  # TSLib logs every batch's loss
            loss.backward()
            optimizer.step()

    def predict():
        model.eval()
        with torch.no_grad():
            return [model(x, mark).numpy() for x, mark in test]

    return epoch, predict


def torch_side(job, data):
    """The PyTorch version trained and run as TSLib's `exp_long_term_forecasting.py` does."""
    import torch_forecasters

    model, optimizer = torch_model(job)
    result = timings(*torch_loops(model, optimizer, data), job["epochs"], n_batches(data))
    return {**result, "params": torch_forecasters.count_params(model)}


def work(job):
    import numpy as np

    data = np.load(job["data"])
    return (torch_side if job["side"] == "pytorch" else keras_side)(job, data)


# ---------------------------------------------------------------- driver


def defaults(name):
    """The hyperparameters of the Keras builder of `name` and their defaults (its module's `DEFAULTS`)."""
    from kerasfactory.models import MODELS

    return dict(getattr(inspect.getmodule(MODELS[name]), "DEFAULTS", {}))


def full_hparams(name):
    """TSLib's settings over the Keras builder's defaults (the PyTorch side needs every size)."""
    return {**defaults(name), **TSLIB.get(name, {}).get("hparams", {})}


def plan(models, backends, ab, shapes=(SHAPE,)):
    """One round's processes in order: per shape and model, PyTorch, then each backend (this tree [, then OLD_TREE])."""
    trees = ["new", "old"] if ab else ["new"]
    for shape in shapes:
        for model in models:
            yield "pytorch", model, None, shape
            for backend in backends:
                for tree in trees:
                    yield backend, model, tree, shape


def run(args, models, data):
    """Every process of every round; `data` maps a shape to its arrays' path. Returns `{(side, model, tree, shape): [result per round]}`."""
    import torch_forecasters

    trees = {"new": args.tree, "old": args.ab}
    runs = {}
    for _ in range(args.rounds):
        for side, model, tree, shape in plan(models, args.backends, args.ab, list(data)):
            setting = TSLIB.get(model, {"hparams": {}, "lr": 1e-4})
            seq_len, n_vars = parse_shape(shape)
            job = {"side": "pytorch" if tree is None else "keras", "model": model, "data": data[shape],
                   "seq_len": seq_len, "n_vars": n_vars, "epochs": args.epochs, "lr": setting["lr"],
                   "hparams": setting["hparams"], "compile": args.compile}
            if tree is None and model not in torch_forecasters.MODELS:
                result = {"error": f"no PyTorch version of {model!r} in torch_forecasters.py"}
            elif tree is None:
                result = harness.run_worker(__file__, {**job, "hparams": full_hparams(model)})
            else:
                result = harness.run_worker(__file__, job, backend=side, pythonpath=trees[tree])
                if "tree" in result and os.path.realpath(result["tree"]) != os.path.realpath(trees[tree]):
                    result = {"error": f"imported kerasfactory from {result['tree']}, not {trees[tree]}"}
            runs.setdefault((side, model, tree, shape), []).append(result)
            print(f"  {shape:<7} {side:<10} {model:<13} {tree or '':<4} {brief(result)}", file=sys.stderr, flush=True)
    return runs


def brief(result):
    if "error" in result:
        return f"error: {result['error']}"
    return (f"train {result['batch_s'] * 1e3:.1f} ms/batch, predict {result['predict_batch_s'] * 1e3:.1f} ms/batch, "
            f"peak {result['peak_mib']:.0f} MiB")


KEYS = ("batch_s", "predict_batch_s", "epoch_s", "predict_s", "peak_mib", "first_epoch_extra_s",
        "first_predict_extra_s", "epoch_cpu_s", "predict_cpu_s")


def summary(results):
    """Medians over the rounds of one process's figures (None where every round failed)."""
    ok = [r for r in results if "error" not in r]
    figures = {key: harness.median(r.get(key) for r in ok) for key in KEYS}
    return {**figures, "params": ok[0]["params"] if ok else None, "error": None if ok else results[0]["error"]}


# ---------------------------------------------------------------- tables


FIGURES = (("batch_s", "{:.4f}"), ("predict_batch_s", "{:.4f}"), ("peak_mib", "{:.0f}"))


def main_table(summaries, models, backends, shape=SHAPE):
    """Per model: the PyTorch figures, then each backend's with its ratio to PyTorch."""
    header = ["model", "params (Keras / PyTorch)", "PyTorch train s/batch", "predict s/batch", "peak MiB"]
    for backend in backends:
        header += [f"{backend} train s/batch", "predict s/batch", "peak MiB"]
    rows = []
    for model in models:
        ref = summaries[("pytorch", model, None, shape)]
        ours = [summaries[(backend, model, "new", shape)] for backend in backends]
        params = next((s["params"] for s in ours if s["params"] is not None), None)
        row = [model, f"{params or 'n/a'} / {ref['params'] or 'n/a'}"]
        row += [harness.with_ratio(ref[key], None, fmt) for key, fmt in FIGURES]
        for s in ours:
            row += ["error" if s["error"] else harness.with_ratio(s[key], ref[key], fmt) for key, fmt in FIGURES]
        rows.append(row)
    return harness.markdown(header, rows)


def ratio_table(summaries, models, backends, shape=SHAPE):
    """Per model: each backend's train and predict time per batch as a ratio to PyTorch's (the README's table)."""
    rows = []
    for model in models:
        ref = summaries[("pytorch", model, None, shape)]
        row = [model]
        for backend in backends:
            s = summaries[(backend, model, "new", shape)]
            row.append("error" if s["error"] or ref["error"] else
                       f"{s['batch_s'] / ref['batch_s']:.2f}x · {s['predict_batch_s'] / ref['predict_batch_s']:.2f}x")
        rows.append(row)
    return harness.markdown(["Keras / PyTorch time (train · predict)"] + backends, rows)


def growth_table(summaries, models, backends, shapes):
    """Per model, backend and shape: train, predict and peak-memory ratios to PyTorch at that shape."""
    header = ["model", "backend"] + [f"{shape} train · predict · memory" for shape in shapes]
    rows = []
    for model in models:
        for backend in backends:
            row = [model, backend]
            for shape in shapes:
                s, ref = summaries[(backend, model, "new", shape)], summaries[("pytorch", model, None, shape)]
                row.append("error" if s["error"] or ref["error"] else " · ".join(
                    f"{s[key] / ref[key]:.2f}x" for key in ("batch_s", "predict_batch_s", "peak_mib")))
            rows.append(row)
    return harness.markdown(header, rows)


def compile_table(summaries, models, backends, shape=SHAPE):
    """Per model: what the first epoch and the first predict took beyond the steady ones."""
    sides = [("pytorch", None, "PyTorch")] + [(b, "new", b) for b in backends]
    rows = []
    for model in models:
        row = [model]
        for side, tree, _ in sides:
            s = summaries[(side, model, tree, shape)]
            row.append("error" if s["error"] else f"{s['first_epoch_extra_s']:.2f} / {s['first_predict_extra_s']:.2f}")
        rows.append(row)
    return harness.markdown(["model"] + [f"{title} first epoch / predict extra s" for *_, title in sides], rows)


def ab_table(runs, models, backends, shape=SHAPE):
    """Per model and backend: this tree's time over OLD_TREE's, round by round; median (min-max)."""
    header = ["model"] + [f"{b} {what} new/old" for b in backends for what in ("train", "predict")]
    rows = []
    for model in models:
        row = [model]
        for backend in backends:
            pairs = [(n, o) for n, o in zip(runs[(backend, model, "new", shape)], runs[(backend, model, "old", shape)])
                     if "error" not in n and "error" not in o]
            for key in ("epoch_s", "predict_s"):
                ratios = [n[key] / o[key] for n, o in pairs]
                row.append(f"{harness.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})" if ratios else "error")
        rows.append(row)
    return harness.markdown(header, rows)


def errors(summaries):
    return [f"{shape} {side} {model} {tree or ''}: {s['error']}"
            for (side, model, tree, shape), s in summaries.items() if s["error"]]


# ---------------------------------------------------------------- command line


def compile_option(text):
    """`NAME=VALUE` -> `(NAME, value)`, the value read as JSON (true, 10, "auto") or kept as text."""
    import argparse
    import json

    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def shape_option(text):
    import argparse

    try:
        parse_shape(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text.lower()


def options(argv, models):
    p = harness.parser(__doc__)
    p.add_argument("--csv", default=CSV, help="ETTh1.csv (default: ../shared/data/ETT-small/ETTh1.csv)")
    p.add_argument("--models", nargs="+", choices=models, default=list(models))
    p.add_argument("--epochs", type=int, default=1, help="steady epochs (and predicts) timed after the warm-up one")
    p.add_argument("--max-batches", type=int, metavar="N", help="cut the train and test splits to N batches each")
    p.add_argument("--synthetic", action="store_true", help="random data of ETTh1's shapes instead of the CSV")
    p.add_argument("--shapes", nargs="+", type=shape_option, default=[], metavar="SEQxVARS",
                   help=f"also these seq_len x variates shapes, random data (growth; {SHAPE} is always measured)")
    p.add_argument("--compile", type=compile_option, action="append", default=[], metavar="NAME=VALUE",
                   help="an argument of Keras' compile, e.g. jit_compile=true or steps_per_execution=10")
    p.add_argument("--tree", default=harness.ROOT, help="the checkout the Keras side imports (default: this one)")
    p.add_argument("--ab", metavar="OLD_TREE", help="also run every Keras measurement on OLD_TREE, interleaved")
    args = p.parse_args(argv)
    args.compile = dict(args.compile)
    args.shapes = [SHAPE] + [s for s in dict.fromkeys(args.shapes) if s != SHAPE]
    if not args.worker:
        if not args.synthetic and not os.path.isfile(args.csv):
            p.exit(2, f"forecasters.py: no ETTh1 CSV at {args.csv} (give --csv PATH, or --synthetic)\n")
        for tree in filter(None, (args.tree, args.ab)):
            if not os.path.isfile(os.path.join(tree, "kerasfactory", "__init__.py")):
                p.exit(2, f"forecasters.py: {tree} is not a checkout of kerasfactory\n")
    return args


def main(argv=None):
    if "--worker" in (argv if argv is not None else sys.argv):
        args = harness.parser(__doc__).parse_known_args(argv)[0]
        harness.worker_main(args, work)
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from kerasfactory.models import MODELS

    args = options(argv, tuple(MODELS))
    info = harness.machine()
    with tempfile.TemporaryDirectory() as folder:
        written = {shape: write_data(args, folder, shape) for shape in args.shapes}
        windows = written[SHAPE][1]
        runs = run(args, args.models, {shape: path for shape, (path, _) in written.items()})
    summaries = {key: summary(results) for key, results in runs.items()}
    source = "synthetic data" if args.synthetic else args.csv
    cut = f", cut to --max-batches {args.max_batches}" if args.max_batches else ""
    compiled = "".join(f", {k}={v!r}" for k, v in args.compile.items())
    print(harness.machine_line(info))
    print(f"ETTh1 96 -> 96 ({source}): {windows['train']} train / {windows['test']} test windows{cut}, batch {BATCH}; "
          f"{args.epochs} timed epoch(s) after a warm-up one; medians over {args.rounds} round(s); "
          f"compile_model(model, learning_rate{compiled}); Keras side: {args.tree}\n")
    print(ratio_table(summaries, args.models, args.backends))
    print("\nSeconds per batch and peak MiB, ratio to PyTorch in parentheses\n")
    print(main_table(summaries, args.models, args.backends))
    print("\nCompilation: the first epoch's and the first predict's time beyond the steady ones\n")
    print(compile_table(summaries, args.models, args.backends))
    if len(args.shapes) > 1:
        print("\nGrowth: ratios to PyTorch per seq_len x variates (random data)\n")
        print(growth_table(summaries, args.models, args.backends, args.shapes))
    if args.ab:
        print(f"\nA/B: {args.tree} (new) over {args.ab} (old), per round; median (min-max) over {args.rounds}\n")
        print(ab_table(runs, args.models, args.backends))
    for line in errors(summaries):
        print(line)
    harness.write_json(args.json, {
        "machine": info, "options": {k: v for k, v in vars(args).items() if k not in ("worker", "out")},
        "windows": windows, "tslib": TSLIB,
        "summaries": {"/".join(filter(None, key)): s for key, s in summaries.items()},
        "runs": {"/".join(filter(None, key)): r for key, r in runs.items()},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
