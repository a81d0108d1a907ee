"""Embedding speed against the PyTorch reference (Time-Series-Library semantics).

    python benchmarks/embeddings.py [--quick] [--rounds 3] [--backends jax tensorflow torch] [--json PATH]
                                    [--malloc warm] [--loop hold]

Each Keras backend runs in its own subprocess (`KERAS_BACKEND` set per process),
and a further subprocess runs the PyTorch modules of `tests/reference_torch.py`
as the yardstick, all in the same run and one after another (never in
parallel). Every row is the median of repeated timings taken after warm-up.
On a shared machine the speed drifts by tens of percent over minutes, so the
processes run in `--rounds` rounds (reference, then each backend, again and
again) and each figure is the median over the rounds; `ratio` is ours /
reference, so below 1 is faster than the reference.

What is timed:
- forward rows: an eager call `layer(x)` on a backend tensor (the reference in
  `torch.no_grad()`, eval mode, so dropout is off on both sides);
- train steps: Keras' default `jit_compile="auto"` (XLA on JAX, `tf.function`
  without XLA on TensorFlow/CPU, eager on torch), Adam and MSE. The
  TokenEmbedding row steps a one-layer `keras.Model` with
  `train_on_batch(x, y)` on device tensors (forward, backward, update, as
  the reference's zero_grad, forward, MSE, backward, `Adam.step()`); the
  forecasting models are timed per batch inside `fit` (see `train_step`);
  both figures are in the JSON;
- construction + first call: a new layer object built and called once per
  sample (the process has warmed up once before, so this is the cost a model
  pays for each such layer, not the backend's import time; the very first,
  cold, time is kept in the JSON as `cold_ms`);
- forecasting models (`kerasfactory.models`, default hyperparameters, 96 -> 96,
  7 variates, 4 timeF marks): train step (in `fit`) and
  predict (`predict_on_batch`) per batch of 32, against the same
  architecture written in PyTorch here (`torch_models`).

torch runs with `torch.set_num_threads(os.cpu_count())` in both the reference
and the torch-backend process; JAX and TensorFlow use all cores by default.

`--malloc warm` starts every process (reference and backends alike) with
glibc's malloc thresholds where a long-running process leaves them
(`MALLOC_MMAP_THRESHOLD_` 32 MiB, its dynamic maximum, `MALLOC_TRIM_THRESHOLD_`
twice that). By default glibc's mmap threshold starts at 128 KiB and rises
only to the largest buffer freed so far, and free memory above twice that goes
back to the OS, so a call that allocates several buffers of megabytes gets
fresh pages, a page fault per 4 KiB written, every time: the reference
TokenEmbedding forward then spends most of its time zeroing pages (6-8 ms in
a fresh process against about 1 ms warm), as do eager layers that hold several
such buffers at once. The default mode measures what a short script sees,
`warm` what a training or serving process sees once it has freed a large batch.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("jax", "tensorflow", "torch")
B, T, C_IN, D_MODEL = 32, 96, 7, 512
SCALING = [(t, d) for t in (96, 384, 1536) for d in (128, 512, 2048)]
PRED_LEN = 96
FIT_STEPS = 16  # batches per timed `fit` epoch
LOOP = "drop"  # how `measure` calls: "drop" each output after syncing it, or "hold" it (--loop)
WARM_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}

ROWS = [
    ("token_forward", "TokenEmbedding forward"),
    ("token_forward_defaults", "TokenEmbedding forward, defaults (same, bias)"),
    ("token_train_step", "TokenEmbedding train step"),
    ("positional_first_call", "PositionalEmbedding(5000, 512) new + 1st call"),
    ("temporal_first_call", "TemporalEmbedding(512) new + 1st call"),
    ("data_embedding_forward", "DataEmbedding forward"),
    ("patch_embedding_forward", "PatchEmbedding forward"),
    ("transformer_train_step", "Transformer model train step (96->96)"),
    ("transformer_predict", "Transformer model predict (96->96)"),
    ("itransformer_train_step", "iTransformer model train step (96->96)"),
    ("itransformer_predict", "iTransformer model predict (96->96)"),
]
MODELS = ("transformer", "itransformer")  # kerasfactory.models names, default hyperparameters


# ---------------------------------------------------------------- timing


def measure(fn, sync, repeats, target_s=0.1, warmup=5):
    """Median seconds per call of `fn`; each sample averages enough calls for ~target_s.

    With `LOOP = "drop"` (the default, `--loop drop`) each call is synced and
    its output dropped before the next call starts: `timeit`'s loop, and a
    user's loop over batches. `"hold"` keeps each output alive through the
    next call and syncs once per sample, as this loop did until Nov 27; that
    changes what glibc's malloc does with the reference's megabyte buffers
    (its TokenEmbedding forward: ~1,050 page faults per call held, ~3,050
    dropped; 2.2-2.8 ms against 5.2-5.4 ms; the issue recorded 7.2-7.5 ms),
    while every Keras backend's took 0-130 either way. `faults_per_call`
    (minor page faults of all threads) is kept with each figure.

    Warm-up lasts at least `warmup` calls and `target_s` seconds: eager JAX
    calls measured after only five calls were still 30-50 % slower than
    their steady state (the allocator settling on the 6 MB outputs).
    """
    start, done = time.perf_counter(), 0
    while done < warmup or time.perf_counter() - start < target_s:
        sync(fn())
        done += 1
    start = time.perf_counter()
    sync(fn())
    once = time.perf_counter() - start
    number = max(1, min(200, int(target_s / max(once, 1e-6))))
    samples, cpu, faults = [], [], []
    for _ in range(repeats):
        start_faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start, start_cpu = time.perf_counter(), time.process_time()
        run_calls(fn, sync, number)
        samples.append((time.perf_counter() - start) / number)
        cpu.append((time.process_time() - start_cpu) / number)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start_faults) / number)
    # cpu_ms: CPU time of all the process's threads, less sensitive to a shared machine.
    return {
        "ms": 1e3 * statistics.median(samples),
        "cpu_ms": 1e3 * statistics.median(cpu),
        "faults_per_call": statistics.median(faults),
        "samples_ms": [1e3 * s for s in samples],
    }


def run_calls(fn, sync, number):
    """`number` calls of `fn` in the loop `LOOP` names (see `measure`)."""
    if LOOP == "hold":
        for _ in range(number):
            out = fn()
        sync(out)
    else:
        for _ in range(number):
            sync(fn())


def measure_fresh(make_and_call, sync, repeats):
    """Construction + first call: a new object each sample; the first (cold) one kept apart."""
    start = time.perf_counter()
    sync(make_and_call())
    cold = time.perf_counter() - start
    result = measure(make_and_call, sync, repeats, target_s=0.0, warmup=0)
    result["cold_ms"] = 1e3 * cold
    return result


def train_step(model, x, y, sync, repeats, primary):
    """Per-batch train-step time two ways; `primary` ("fit" or "train_on_batch") is the row's figure.

    - `fit`: one epoch over FIT_STEPS copies of the batch, divided by FIT_STEPS.
      This is how forecasters are trained: on JAX `fit` keeps the state on the
      device from step to step, while every `train_on_batch` call also writes
      each variable back (iTransformer: 15-16 ms per step in `fit` against
      19-26 ms per `train_on_batch` call). It also slices each batch from
      host arrays, which the reference loop does not.
    - `train_on_batch` on tensors already on the device: forward, backward
      and the Adam update only, as the reference's loop. Used for the
      TokenEmbedding row, whose 6.3 MB target would make `fit` time mostly
      the copying of batches (TensorFlow: 24 ms against 7 ms).
    The other figure is kept in the JSON.
    """
    import keras
    import numpy as np

    def tile(a):
        a = keras.ops.convert_to_numpy(a)
        return np.broadcast_to(a, (FIT_STEPS, *a.shape)).reshape(-1, *a.shape[1:])

    xs = [tile(a) for a in x] if isinstance(x, list) else tile(x)
    ys = tile(y)
    weight = model.trainable_variables[0]

    def epoch():
        model.fit(xs, ys, batch_size=B, epochs=1, shuffle=False, verbose=0)
        return weight.value

    fit = measure(epoch, sync, repeats, warmup=1)
    for key in ("ms", "cpu_ms", "faults_per_call"):
        fit[key] /= FIT_STEPS
    fit["samples_ms"] = [v / FIT_STEPS for v in fit["samples_ms"]]
    on_batch = measure(lambda: model.train_on_batch(x, y), sync, repeats)
    result = fit if primary == "fit" else on_batch
    result["how"] = (
        f"fit, {FIT_STEPS} batches per epoch" if primary == "fit" else "train_on_batch"
    ) + f", jit_compile={model.jit_compile}"
    result["fit_ms"], result["train_on_batch_ms"] = fit["ms"], on_batch["ms"]
    return result


def inputs(rng, t=T, c=C_IN):
    import numpy as np

    x = rng.standard_normal((B, t, c)).astype("float32")
    # marks [month, day, weekday, hour, minute // 15], the reference's layout
    high = np.array([13, 32, 7, 24, 4])
    marks = (rng.random((B, t, 5)) * high).astype("int32")
    return x, marks


def setup(quick, to_tensor):
    """What every worker starts from: the repeat count, a seeded generator, `x` and the marks."""
    import numpy as np

    rng = np.random.default_rng(0)
    x, marks = inputs(rng)
    return (5 if quick else 15), rng, to_tensor(x), to_tensor(marks)


# ---------------------------------------------------------------- ours


def keras_sync():
    """This process's Keras backend, set up as the reference is; returns a `sync(out)` for `measure`."""
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        torch.set_num_threads(os.cpu_count())
    if backend == "jax":
        import jax

        return jax.block_until_ready
    return lambda out: out


def keras_token_rows(x, rng, sync, repeats, defaults=False):
    """TokenEmbedding forward (circular, no bias; with `defaults` also the default layer) and
    train step; returns the rows, the one-layer model and its training target."""
    import keras
    from keras import ops

    from kerasfactory import layers

    results = {}
    token = layers.TokenEmbedding(C_IN, D_MODEL, padding="circular", use_bias=False)
    results["token_forward"] = measure(lambda: token(x), sync, repeats)
    if defaults:
        default_token = layers.TokenEmbedding(C_IN, D_MODEL)
        results["token_forward_defaults"] = measure(lambda: default_token(x), sync, repeats)

    keras.utils.set_random_seed(0)
    inp = keras.Input((T, C_IN))
    model = keras.Model(inp, layers.TokenEmbedding(C_IN, D_MODEL, padding="circular", use_bias=False)(inp))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    target = ops.convert_to_tensor(rng.standard_normal((B, T, D_MODEL)).astype("float32"))
    results["token_train_step"] = train_step(model, x, target, sync, repeats, "train_on_batch")
    return results, model, target


def keras_worker(quick):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras import ops

    sync = keras_sync()
    from kerasfactory import layers

    repeats, rng, x, marks = setup(quick, ops.convert_to_tensor)
    results = keras_token_rows(x, rng, sync, repeats, defaults=True)[0]

    results["positional_first_call"] = measure_fresh(
        lambda: layers.PositionalEmbedding(5000, d_model=D_MODEL)(x), sync, repeats
    )

    if hasattr(layers, "TemporalEmbedding"):
        results["temporal_first_call"] = measure_fresh(
            lambda: layers.TemporalEmbedding(D_MODEL)(marks), sync, repeats
        )
    if hasattr(layers, "DataEmbedding"):
        data = layers.DataEmbedding(C_IN, D_MODEL)
        results["data_embedding_forward"] = measure(lambda: data(x, marks), sync, repeats)
    if hasattr(layers, "PatchEmbedding"):
        patch = layers.PatchEmbedding(D_MODEL, patch_len=16, stride=8)
        results["patch_embedding_forward"] = measure(lambda: patch(x), sync, repeats)

    results.update(keras_model_rows(keras, ops, rng, sync, repeats))

    for t, d in SCALING:
        xs = ops.convert_to_tensor(rng.standard_normal((B, t, C_IN)).astype("float32"))
        layer = layers.TokenEmbedding(C_IN, d, padding="circular", use_bias=False)
        results[f"scale_T{t}_D{d}"] = measure(lambda: layer(xs), sync, 3 if quick else 7, warmup=1)
    return results


def model_data(rng):
    """A batch for the forecasters: x, timeF marks (4 columns, freq "h"), target."""
    x = rng.standard_normal((B, T, C_IN)).astype("float32")
    marks = (rng.random((B, T, 4)) - 0.5).astype("float32")
    y = rng.standard_normal((B, PRED_LEN, C_IN)).astype("float32")
    return x, marks, y


def keras_model_rows(keras, ops, rng, sync, repeats):
    try:
        from kerasfactory.models import build_model
    except ImportError:
        return {}
    results = {}
    x, marks, y = (ops.convert_to_tensor(a) for a in model_data(rng))
    for name in MODELS:
        model = build_model(name, seq_len=T, pred_len=PRED_LEN, n_vars=C_IN, mark_dim=4, freq="h", seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        results[f"{name}_train_step"] = train_step(model, [x, marks], y, sync, repeats, "fit")
        results[f"{name}_predict"] = measure(lambda: model.predict_on_batch([x, marks]), sync, repeats)
        results[f"{name}_predict"]["how"] = "predict_on_batch"
    return results


# ---------------------------------------------------------------- reference


def reference_token_rows(x, rng, sync, repeats, defaults=False):
    """The reference's rows of `keras_token_rows`: forward under `no_grad`, and a train step."""
    import torch

    from tests import reference_torch as ref

    results = {}
    token = ref.TokenEmbedding(C_IN, D_MODEL).eval()
    with torch.no_grad():
        results["token_forward"] = measure(lambda: token(x), sync, repeats)
        if defaults:
            default_token = ref.TokenEmbedding(C_IN, D_MODEL, padding="same", bias=True).eval()
            results["token_forward_defaults"] = measure(lambda: default_token(x), sync, repeats)

    model = ref.TokenEmbedding(C_IN, D_MODEL)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    target = torch.from_numpy(rng.standard_normal((B, T, D_MODEL)).astype("float32"))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        return loss

    results["token_train_step"] = measure(step, sync, repeats)
    results["token_train_step"]["how"] = "zero_grad, forward, mse, backward, Adam.step"
    return results


def reference_worker(quick):
    import torch

    sys.path.insert(0, ROOT)
    from tests import reference_torch as ref

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)

    def sync(out):
        return out

    repeats, rng, x, marks = setup(quick, torch.from_numpy)
    results = reference_token_rows(x, rng, sync, repeats, defaults=True)

    with torch.no_grad():
        results["positional_first_call"] = measure_fresh(
            lambda: ref.PositionalEmbedding(D_MODEL, 5000)(x), sync, repeats
        )
        results["temporal_first_call"] = measure_fresh(
            lambda: ref.TemporalEmbedding(D_MODEL)(marks), sync, repeats
        )
        data = ref.DataEmbedding(C_IN, D_MODEL).eval()
        results["data_embedding_forward"] = measure(lambda: data(x, marks), sync, repeats)
        patch = ref.PatchEmbedding(D_MODEL, patch_len=16, stride=8).eval()
        results["patch_embedding_forward"] = measure(lambda: patch(x.permute(0, 2, 1)), sync, repeats)

    results.update(reference_model_rows(torch, ref, rng, sync, repeats))

    with torch.no_grad():
        for t, d in SCALING:
            xs = torch.from_numpy(rng.standard_normal((B, t, C_IN)).astype("float32"))
            layer = ref.TokenEmbedding(C_IN, d).eval()
            results[f"scale_T{t}_D{d}"] = measure(lambda: layer(xs), sync, 3 if quick else 7, warmup=1)
    return results


def torch_models(torch, ref):
    """The kerasfactory forecasters (default hyperparameters) written in PyTorch."""
    nn = torch.nn

    class Encoder(nn.Module):  # post-norm blocks and a final norm, as models/encoder.py
        def __init__(self, d_model, n_heads=4, n_layers=2, d_ff=128, dropout=0.1):
            super().__init__()
            self.attn = nn.ModuleList(
                nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True) for _ in range(n_layers)
            )
            self.ff = nn.ModuleList(
                nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))
                for _ in range(n_layers)
            )
            self.norm1 = nn.ModuleList(nn.LayerNorm(d_model, eps=1e-5) for _ in range(n_layers))
            self.norm2 = nn.ModuleList(nn.LayerNorm(d_model, eps=1e-5) for _ in range(n_layers))
            self.drop = nn.Dropout(dropout)
            self.norm = nn.LayerNorm(d_model, eps=1e-5)

        def forward(self, h):
            for attn, ff, n1, n2 in zip(self.attn, self.ff, self.norm1, self.norm2):
                h = n1(h + self.drop(attn(h, h, h, need_weights=False)[0]))
                h = n2(h + self.drop(ff(h)))
            return self.norm(h)

    class Transformer(nn.Module):
        def __init__(self, d_model=64):
            super().__init__()
            self.revin = ref.RevIN(C_IN)
            self.embedding = ref.DataEmbedding(C_IN, d_model, embed_type="timeF", freq="h")
            self.encoder = Encoder(d_model)
            self.projection = nn.Linear(d_model, C_IN)
            self.head = nn.Linear(T, PRED_LEN)

        def forward(self, x, marks):
            x = self.revin(x, "norm")
            z = self.projection(self.encoder(self.embedding(x, marks))) + x
            return self.revin(self.head(z.transpose(1, 2)).transpose(1, 2), "denorm")

    class ITransformer(nn.Module):
        def __init__(self, d_model=128):
            super().__init__()
            self.revin = ref.RevIN(C_IN)
            self.embedding = ref.DataEmbeddingInverted(T, d_model)
            self.encoder = Encoder(d_model)
            self.head = nn.Linear(d_model, PRED_LEN)

        def forward(self, x, marks):
            x = self.revin(x, "norm")
            y = self.head(self.encoder(self.embedding(x, marks)))[:, :C_IN]
            return self.revin(y.transpose(1, 2), "denorm")

    return {"transformer": Transformer, "itransformer": ITransformer}


def reference_model_rows(torch, ref, rng, sync, repeats):
    results = {}
    x, marks, y = (torch.from_numpy(a) for a in model_data(rng))
    for name, cls in torch_models(torch, ref).items():
        model = cls()
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step():
            model.train()
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x, marks), y)
            loss.backward()
            opt.step()
            return loss

        results[f"{name}_train_step"] = measure(step, sync, repeats)

        def predict():
            model.eval()
            with torch.no_grad():
                return model(x, marks)

        results[f"{name}_predict"] = measure(predict, sync, repeats)
    return results


# ---------------------------------------------------------------- driver


def run_worker(kind, quick, malloc="default", script=__file__, loop="drop"):
    """Runs one worker of `script` in a fresh process and returns its results (or an error string)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    if malloc == "warm":
        env.update(WARM_MALLOC)
    if kind != "reference":
        env["KERAS_BACKEND"] = kind
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(script), "--worker", kind, "--out", out, "--loop", loop]
        if quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
        with open(out) as f:
            return json.load(f)


def merge_rounds(runs):
    """One result per row: the median over the rounds of each row's median time."""
    ok = [run for run in runs if "error" not in run]
    if not ok:
        return runs[0]
    merged = {}
    for key in ok[0]:
        rows = [run[key] for run in ok if key in run]
        merged[key] = {**rows[0], "ms": statistics.median(r["ms"] for r in rows), "rounds_ms": [r["ms"] for r in rows]}
        if all("faults_per_call" in r for r in rows):
            merged[key]["faults_per_call"] = statistics.median(r["faults_per_call"] for r in rows)
    return merged


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count()}


def cell(result, key):
    if "error" in result:
        return None
    row = result.get(key)
    return None if row is None else row["ms"]


def table(results, backends):
    ref = results["reference"]
    lines = []
    head = f"{'row (B=32, T=96, c_in=7, d=512, float32)':<48}{'reference':>11}"
    for b in backends:
        head += f"{b + ' ms':>15}{'ratio':>7}"
    lines += [head, "-" * len(head)]
    for key, label in ROWS:
        r = cell(ref, key)
        line = f"{label:<48}" + (f"{r:>9.2f}ms" if r is not None else f"{'n/a':>11}")
        for b in backends:
            ours = cell(results[b], key)
            if ours is None:
                line += f"{'n/a (not available)':>22}" if "error" not in results[b] else f"{'error':>22}"
            else:
                ratio = f"{ours / r:>6.2f}x" if r else f"{'':>7}"
                line += f"{ours:>15.2f}{ratio}"
        lines.append(line)
    lines += ["", "Scaling: TokenEmbedding forward, ns per (time x d_model) at batch 32", ""]
    head = f"{'time x d_model':<20}{'reference':>11}" + "".join(f"{b:>12}" for b in backends)
    lines += [head, "-" * len(head)]
    for t, d in SCALING:
        key = f"scale_T{t}_D{d}"
        row = f"{f'{t} x {d}':<20}"
        for name in ["reference", *backends]:
            ms = cell(results[name], key)
            width = 11 if name == "reference" else 12
            row += f"{1e6 * ms / (t * d):>{width}.2f}" if ms is not None else f"{'n/a':>{width}}"
        lines.append(row)
    for b in backends:
        if "error" in results[b]:
            lines.append(f"{b}: error: {results[b]['error']}")
    return "\n".join(lines)


def run_rounds(argv, doc, script, reference, keras):
    """The command line of this script and of floors.py: in a worker process, runs `reference` or
    `keras` and returns `(args, None)`; otherwise runs every process in rounds, each through
    `script`, and returns `(args, results)` with the medians over the rounds."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--rounds", type=int, default=3, help="runs of every process; figures are medians over them")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--malloc", choices=("default", "warm"), default="default",
                        help="glibc malloc thresholds of every process (see embeddings.py's docstring)")
    parser.add_argument("--loop", choices=("drop", "hold"), default="drop",
                        help="sync and drop each output before the next call, or hold it through the next (see measure)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        global LOOP
        LOOP = args.loop
        sys.path.insert(0, ROOT)
        worker = reference if args.worker == "reference" else keras
        with open(args.out, "w") as f:
            json.dump(worker(args.quick), f)
        return args, None

    rounds = {kind: [] for kind in ["reference", *args.backends]}
    for _ in range(args.rounds):
        for kind in rounds:
            rounds[kind].append(run_worker(kind, args.quick, args.malloc, script, args.loop))
    return args, {kind: merge_rounds(runs) for kind, runs in rounds.items()}


def main(argv=None):
    args, results = run_rounds(argv, __doc__, __file__, reference_worker, keras_worker)
    if results is None:
        return
    info = machine()
    print(f"Machine: {info['cpu']}, {info['nproc']} cores; torch threads = {info['nproc']}; "
          f"medians over {args.rounds} round(s); malloc {args.malloc}; loop {args.loop}")
    print(table(results, args.backends))
    if args.json:
        payload = {"machine": info, "quick": args.quick, "rounds": args.rounds, "malloc": args.malloc, "loop": args.loop,
                   "results": results}
        for b in args.backends:
            payload.setdefault("ratios", {})[b] = {
                key: cell(results[b], key) / cell(results["reference"], key)
                for key in results[b]
                if "error" not in results[b] and cell(results["reference"], key)
            }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)


if __name__ == "__main__":
    main()
