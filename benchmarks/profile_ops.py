"""Where a forecaster's step spends its time: each layer's share of the compiled step on JAX, per XLA
operation, beside PyTorch's per-operator profile of the same architecture.

    python benchmarks/profile_ops.py [--models transformer ...] [--step train|predict]
                                     [--n-vars 7] [--batches 8] [--top 12] [--json PATH]

For each model, with `forecasters.py`'s Time-Series-Library settings (batch 32, 96 -> 96, random data
of `--n-vars` variates), two processes run `--batches` batches of `forecasters.py`'s own training epoch
(or predict) after two warm-up passes, under a profiler:

- Keras on JAX, compiled by `compile_model` as the `Forecaster` compiles it, under `jax.profiler`:
  every XLA operation the CPU ran, named by the layer that emitted it (the HLO's `op_name`, read from
  an `--xla_dump_to` dump), summed per layer with the block index folded (`encoder_N_ff1`), forward
  and gradient together;
- the PyTorch version (`torch_forecasters.py`), trained as TSLib trains it, under `torch.profiler`:
  self time per operator (`aten::addmm`, `aten::bmm`, ...).

Times are per batch and include the profilers' overhead (XLA's operations run on two threads, so
their sum can pass the wall time); read them as shares. `forecasters.py` gives the unprofiled
times.
"""

import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile

import forecasters
import harness

TRANSFORMS = {"jit", "pjit", "transpose", "jvp", "vmap", "remat", "checkpoint"}


def layer_of(op_name):
    """`jit(train_step)/transpose(jvp(encoder_1_attention))/query/dot_general` -> `encoder_N_attention/query`.

    The layer path of an XLA operation's `op_name`: the jitted function's name, JAX's transformations and
    the primitive dropped, two levels kept, block indices folded.
    """
    parts = [p for p in re.split(r"[/()]", op_name) if p and p not in TRANSFORMS][1:-1]
    return re.sub(r"_\d+(?=[_/]|$)", "_N", "/".join(parts[:2])) or "(outside layers)"


def data(job):
    windows = {"train": forecasters.BATCH * job["batches"], "test": forecasters.BATCH * job["batches"]}
    return forecasters.synthetic_arrays(n_vars=job["n_vars"], windows=windows)


def jax_side(job):
    dump = job["dump"]
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_dump_to={dump} --xla_dump_hlo_as_text"
    os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"  # a cached program is not compiled, so not dumped
    harness.keras_process()
    import jax

    epoch, predict = forecasters.keras_loops(forecasters.keras_model(job), data(job))
    run = epoch if job["step"] == "train" else predict
    run(), run()
    trace = os.path.join(dump, "trace")
    with jax.profiler.trace(trace, create_perfetto_trace=True):
        run()
    names = {}
    for path in glob.glob(os.path.join(dump, "*after_optimizations.txt")):
        module = re.match(r"module_\d+\.(.*?)\.(cpu_)?after_optimizations\.txt", os.path.basename(path)).group(1)
        with open(path) as f:
            for match in re.finditer(r'%([\w.\-]+) = [^\n]*?op_name="([^"]*)"', f.read()):
                names[(module, match.group(1))] = match.group(2)
    events = json.load(gzip.open(glob.glob(os.path.join(trace, "**", "perfetto_trace.json.gz"), recursive=True)[0]))
    per_layer = collections.Counter()
    for event in events["traceEvents"] if isinstance(events, dict) else events:
        key = (event.get("args", {}).get("hlo_module"), event.get("name"))
        if event.get("ph") == "X" and key in names:
            per_layer[layer_of(names[key])] += event["dur"] / 1e3 / job["batches"]
    return {"ms": dict(per_layer)}


def torch_side(job):
    from torch.profiler import ProfilerActivity, profile

    epoch, predict = forecasters.torch_loops(*forecasters.torch_model(job), data(job))
    run = epoch if job["step"] == "train" else predict
    run(), run()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    return {"ms": {e.key: e.self_cpu_time_total / 1e3 / job["batches"] for e in prof.key_averages()}}


def work(job):
    return (jax_side if job["side"] == "jax" else torch_side)(job)


def table(result, top):
    ms = sorted(result["ms"].items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in ms) or 1.0
    rows = [[name, f"{v:.2f}", f"{100 * v / total:.0f}%"] for name, v in ms[:top]]
    rows.append(["(all)", f"{total:.2f}", "100%"])
    return rows


def main(argv=None):
    p = harness.parser(__doc__)
    p.add_argument("--models", nargs="+", default=["transformer"], choices=sorted(forecasters.TSLIB))
    p.add_argument("--step", choices=("train", "predict"), default="train")
    p.add_argument("--n-vars", type=int, default=forecasters.N_VARS)
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    if args.worker:
        return harness.worker_main(args, work)
    print(harness.machine_line(harness.machine()))
    results = {}
    for model in args.models:
        job = {"model": model, "step": args.step, "seq_len": forecasters.SEQ_LEN, "n_vars": args.n_vars,
               "batches": args.batches, "lr": forecasters.TSLIB[model]["lr"]}
        with tempfile.TemporaryDirectory() as dump:
            keras_job = {**job, "side": "jax", "dump": dump, "hparams": forecasters.TSLIB[model]["hparams"]}
            torch_job = {**job, "side": "pytorch", "hparams": forecasters.full_hparams(model)}
            results[model] = {"jax": harness.run_worker(__file__, keras_job, backend="jax"),
                              "pytorch": harness.run_worker(__file__, torch_job)}
        for side, header in (("jax", "Keras on JAX: layer"), ("pytorch", "PyTorch: operator")):
            result = results[model][side]
            print(f"\n{model}, {args.step} step, {args.n_vars} variates, {side} (profiled ms per batch)\n")
            if "error" in result:
                print(f"error: {result['error']}")
                continue
            print(harness.markdown([header, "ms/batch", "share"], table(result, args.top)))
    if args.json:
        harness.write_json(args.json, results)
    return 1 if any("error" in r for sides in results.values() for r in sides.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
