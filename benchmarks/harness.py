"""What the benchmark scripts share: worker subprocesses, the machine line, markdown tables.

Every measurement runs in a fresh process (`run_worker`): the script calls
itself with `--worker JOB --out PATH`, the job a JSON object, and the worker
writes its result as JSON to PATH. `KERAS_BACKEND` and `PYTHONPATH` are set
per process, so one run can compare backends, and two checkouts of this repo.
"""

import argparse
import importlib.metadata
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("jax", "tensorflow", "torch")
PACKAGES = {"keras": ("keras",), "jax": ("jax",), "tensorflow": ("tensorflow", "tensorflow-cpu"), "torch": ("torch",)}


def parser(doc):
    """The options every script has: --backends, --rounds, --json, and the hidden worker ones."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    p.add_argument("--rounds", type=int, default=1, help="runs of every process, interleaved; figures are medians")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p


def run_worker(script, job, backend=None, pythonpath=ROOT):
    """Runs `script --worker JOB` in a fresh process; returns its JSON result, or `{"error": ...}`.

    `backend` sets `KERAS_BACKEND` (None: a process without Keras);
    `pythonpath` is where `kerasfactory` (and `tests`) are imported from.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=pythonpath)
    if backend:
        env["KERAS_BACKEND"] = backend
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(script), "--worker", json.dumps(job), "--out", out]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(out):
            lines = proc.stderr.strip().splitlines()
            return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
        with open(out) as f:
            return json.load(f)


def worker_main(args, work):
    """In a worker process: runs `work(job)` and writes its result to `--out`."""
    with open(args.out, "w") as f:
        json.dump(work(json.loads(args.worker)), f)


def keras_process():
    """Sets up a Keras worker as the PyTorch one is (all cores for torch); returns the backend's name."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        torch.set_num_threads(os.cpu_count())
    return backend


def machine():
    """CPU model, core count and the versions of the packages compared."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {name: version(*dists) for name, dists in PACKAGES.items()}
    return {"cpu": cpu, "nproc": os.cpu_count(), "versions": versions, "loadavg": os.getloadavg()}


def version(*distributions):
    """The installed version of the first of `distributions` found (without importing it)."""
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return "not installed"


def machine_line(info):
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    load = " ".join(f"{v:.2f}" for v in info["loadavg"])
    return (f"Machine: {info['cpu']}, {info['nproc']} cores (torch threads = {info['nproc']}); {versions}; "
            f"load average at start {load}")


def peak_mib():
    """This process's peak resident memory in MiB.

    `VmHWM` of /proc/self/status: the peak of this program's own memory.
    `getrusage(RUSAGE_SELF).ru_maxrss` is not used where /proc exists: Linux
    carries into it the peak of the process that forked this one (the driver,
    with its own imports and data), since the child starts as its copy.
    """
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def with_ratio(value, reference, fmt="{:.2f}"):
    """`value (ratio x)`, the ratio to `reference`; `n/a` for a missing value."""
    if value is None:
        return "n/a"
    text = fmt.format(value)
    return f"{text} ({value / reference:.2f}x)" if reference else text


def markdown(header, rows):
    """A markdown table: `header` a list of column titles, `rows` lists of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path, payload):
    if path:
        with open(path, "w") as f:
            json.dump(payload, f, indent=1)
