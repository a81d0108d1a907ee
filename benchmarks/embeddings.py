"""The embedding layers inside compiled code, against the PyTorch reference (Time-Series-Library semantics).

    python benchmarks/embeddings.py [--quick] [--rounds 3] [--backends jax tensorflow torch] [--json PATH]

Each layer (batch 32, 96 steps, 7 variates, d_model 512, float32) is timed as
a model runs it, wrapped in a one-layer `keras.Model` with Keras' defaults
(`jit_compile="auto"`: XLA on JAX, `tf.function` on TensorFlow, eager on torch):

- forward: `model.predict_on_batch(inputs)` against the reference module of
  `tests/reference_torch.py` in eval mode under `torch.no_grad()`;
- train step: `model.train_on_batch(inputs, target)` with Adam and MSE against
  the reference's `zero_grad`, forward, MSE, `backward`, `Adam.step()`.

Whole forecasters (`fit`, `predict`, memory) are `forecasters.py`'s. Every
figure is the median of repeated timings after warm-up. The reference and each
backend run in fresh processes, one after another, `--rounds` times over
(reference, then each backend, again and again); each figure is the median over
the rounds, and `ratio` is ours / reference (below 1: faster than the reference).
torch runs with `torch.set_num_threads(os.cpu_count())` in both the reference and
the torch-backend process; JAX and TensorFlow use all cores by default.
"""

import os
import statistics
import sys
import time

import harness

B, T, C_IN, D_MODEL = 32, 96, 7, 512
LABELS = {
    "token": "TokenEmbedding (circular, no bias)",
    "data": "DataEmbedding (fixed calendar marks)",
    "inverted": "DataEmbeddingInverted (timeF marks)",
    "patch": "PatchEmbedding (patch 16, stride 8)",
}
ROWS = [(f"{name}_{what}", f"{label} {what.replace('_', ' ')}") for name, label in LABELS.items()
        for what in ("forward", "train_step")]


def measure(fn, repeats, target_s=0.1, warmup=5):
    """Median ms per call of `fn` over `repeats` samples, each averaging enough calls for ~target_s.

    Warm-up lasts at least `warmup` calls and `target_s` seconds (the first
    calls compile). Every `fn` here returns host values or CPU tensors, so
    each call has finished when it returns.
    """
    start, done = time.perf_counter(), 0
    while done < warmup or time.perf_counter() - start < target_s:
        fn()
        done += 1
    number = max(1, min(200, int(target_s * done / (time.perf_counter() - start))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return {"ms": 1e3 * statistics.median(samples), "samples_ms": [1e3 * s for s in samples]}


def inputs(rng):
    """`x`, calendar marks `[month, day, weekday, hour, minute // 15]` and timeF marks, as numpy."""
    import numpy as np

    x = rng.standard_normal((B, T, C_IN)).astype("float32")
    marks = (rng.random((B, T, 5)) * np.array([13, 32, 7, 24, 4])).astype("int32")
    timef = (rng.random((B, T, 4)) - 0.5).astype("float32")
    return x, marks, timef


# ---------------------------------------------------------------- workers


def rows(cases, timed, rng, repeats):
    """`{f"{name}_forward": ..., f"{name}_train_step": ...}` from `timed(*case, rng, repeats)` per case."""
    return {f"{name}_{what}": row for name, case in cases.items() for what, row in timed(*case, rng, repeats).items()}


def keras_worker(repeats):
    harness.keras_process()
    import numpy as np

    from kerasfactory import layers

    rng = np.random.default_rng(0)
    x, marks, timef = inputs(rng)
    cases = {
        "token": (layers.TokenEmbedding(C_IN, D_MODEL, padding="circular", use_bias=False), [x]),
        "data": (layers.DataEmbedding(C_IN, D_MODEL, padding="circular", use_bias=False), [x, marks]),
        "inverted": (layers.DataEmbeddingInverted(T, D_MODEL), [x, timef]),
        "patch": (layers.PatchEmbedding(D_MODEL, patch_len=16, stride=8), [x]),
    }
    return rows(cases, keras_rows, rng, repeats)


def keras_rows(layer, arrays, rng, repeats):
    """Forward and train step of `layer` in a one-layer `keras.Model`."""
    import keras

    keras.utils.set_random_seed(0)
    symbolic = [keras.Input(a.shape[1:], dtype=str(a.dtype)) for a in arrays]
    model = keras.Model(symbolic, layer(*symbolic))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    batch = [keras.ops.convert_to_tensor(a) for a in arrays]
    target = keras.ops.convert_to_tensor(rng.standard_normal((B, *model.output.shape[1:])).astype("float32"))
    return {
        "forward": measure(lambda: model.predict_on_batch(batch), repeats),
        "train_step": measure(lambda: model.train_on_batch(batch, target), repeats),
    }


def reference_worker(repeats):
    import numpy as np
    import torch

    from tests import reference_torch as ref

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x, marks, timef = (torch.from_numpy(a) for a in inputs(rng))
    cases = {
        "token": (ref.TokenEmbedding(C_IN, D_MODEL), [x]),
        "data": (ref.DataEmbedding(C_IN, D_MODEL), [x, marks]),
        "inverted": (ref.DataEmbeddingInverted(T, D_MODEL), [x, timef]),
        "patch": (ref.PatchEmbedding(D_MODEL, patch_len=16, stride=8), [x.permute(0, 2, 1)]),
    }
    return rows(cases, reference_rows, rng, repeats)


def reference_rows(module, batch, rng, repeats):
    """Forward (eval, `no_grad`) and train step of the reference `module`."""
    import torch

    def forward():
        out = module(*batch)
        return out[0] if isinstance(out, tuple) else out  # PatchEmbedding also returns n_vars

    target = torch.from_numpy(rng.standard_normal(tuple(forward().shape)).astype("float32"))
    optimizer = torch.optim.Adam(module.parameters(), 1e-3)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(forward(), target)
        loss.backward()
        optimizer.step()
        return loss

    module.eval()
    with torch.no_grad():
        forward_row = measure(forward, repeats)
    module.train()
    return {"forward": forward_row, "train_step": measure(step, repeats)}


def work(job):
    repeats = 5 if job["quick"] else 15
    return (reference_worker if job["kind"] == "reference" else keras_worker)(repeats)


# ---------------------------------------------------------------- driver


def merge_rounds(runs):
    """The median over the rounds of each row's time, and every round's time; the first error if all failed."""
    ok = [run for run in runs if "error" not in run]
    if not ok:
        return runs[0]
    return {key: {"ms": statistics.median(r[key]["ms"] for r in ok), "rounds_ms": [r[key]["ms"] for r in ok]}
            for key in ok[0]}


def table(results, backends):
    """Rows of `ROWS`: the reference's ms, then each backend's ms and its ratio to the reference."""
    reference = results["reference"]
    header = ["row (batch 32, 96 steps, 7 variates, d_model 512)", "reference ms"] + [f"{b} ms" for b in backends]
    rows = []
    for key, label in ROWS:
        ref_ms = reference.get(key, {}).get("ms")
        row = [label, harness.with_ratio(ref_ms, None)]
        for backend in backends:
            ours = results[backend]
            row.append("error" if "error" in ours else harness.with_ratio(ours.get(key, {}).get("ms"), ref_ms))
        rows.append(row)
    lines = [harness.markdown(header, rows)]
    lines += [f"{name}: error: {r['error']}" for name, r in results.items() if "error" in r]
    return "\n".join(lines)


def main(argv=None):
    p = harness.parser(__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.set_defaults(rounds=3)
    args = p.parse_args(argv)
    if args.worker:
        harness.worker_main(args, work)
        return 0
    info = harness.machine()
    runs = {kind: [] for kind in ["reference", *args.backends]}
    for _ in range(args.rounds):
        for kind in runs:
            job = {"kind": kind, "quick": args.quick}
            runs[kind].append(harness.run_worker(__file__, job, backend=None if kind == "reference" else kind))
    results = {kind: merge_rounds(r) for kind, r in runs.items()}
    print(harness.machine_line(info))
    print(f"Medians over {args.rounds} round(s){', quick' if args.quick else ''}\n")
    print(table(results, args.backends))
    harness.write_json(args.json, {"machine": info, "quick": args.quick, "rounds": args.rounds, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
