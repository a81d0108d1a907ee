"""Which eager body of TokenEmbedding is faster, per backend: the evidence for its choice.

    python benchmarks/token_paths.py [--backends jax tensorflow torch] [--malloc warm] [--rounds 12]

TokenEmbedding computes an eager call one of three ways: a gather of the
shifted steps and one contraction with the kernel (`_gather_contract`, any
padding), one `ops.conv` of the input (`_eager_conv`, zero padding), or the
input rolled once per kernel tap, side by side, and one 2-D matmul
(`_rolls_matmul`, circular padding). `call` picks the conv on TensorFlow for
zero padding and on JAX for "same", the rolls on TensorFlow for circular
padding, and the gather everywhere else. This script times, on the same layer
and input (batch 32, time 96, c_in 7, d_model 512, float32) in one process per
backend, the gather against the other body the padding allows, interleaved:
each round times one body for about 0.05 s (after warm-up, as `embeddings.py`
times), then the other; the times are medians over the rounds, the ratio the
median of the rounds' ratios.
Keras's `Layer.__call__` is left out: it costs every body the same.
`other / gather` below 1 means the other body is faster; `picked` is what
`call` runs. Rerun it when Keras or a backend is upgraded: the choice is a
measurement.
"""

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embeddings import BACKENDS, WARM_MALLOC, keras_sync, measure  # noqa: E402

CONFIGS = [(padding, bias) for padding in ("same", "circular", "causal") for bias in (True, False)]


def worker(rounds):
    import keras
    import numpy as np

    from kerasfactory.layers import TokenEmbedding

    sync = keras_sync()
    x = keras.ops.convert_to_tensor(np.random.default_rng(0).standard_normal((32, 96, 7)).astype("float32"))
    for padding, bias in CONFIGS:
        layer = TokenEmbedding(7, 512, padding=padding, use_bias=bias)
        layer(x)
        if padding == "circular":
            paths = {"rolls": lambda: layer._rolls_matmul(x, 96)}
        else:
            paths = {"conv": lambda: layer._eager_conv(x)}
        other = next(iter(paths))
        paths["gather"] = lambda: layer._gather_contract(x, 96, eager=True)
        ms = {name: [] for name in paths}
        for _ in range(rounds):
            for name, fn in paths.items():
                ms[name].append(measure(fn, sync, 1, target_s=0.05)["ms"])
        fast, gather = (statistics.median(ms[name]) for name in paths)
        # The ratio is the median of each round's ratio: the two bodies of a round ran
        # back to back, so the machine's drift between rounds cancels out.
        ratio = statistics.median(a / b for a, b in zip(ms[other], ms["gather"]))
        print(f"{keras.backend.backend()}\t{padding}\t{bias}\t{other} {fast:.2f}\t{gather:.2f}\t{ratio:.2f}"
              f"\t{layer._eager_path()}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--malloc", choices=("default", "warm"), default="default")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.path.insert(0, ROOT)
        worker(args.rounds)
        return
    print(f"malloc {args.malloc}, medians over {args.rounds} interleaved rounds")
    print(f"{'backend':<12}{'padding':<10}{'bias':<7}{'other ms':>12}{'gather ms':>11}{'other/gather':>14}  picked")
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
        if args.malloc == "warm":
            env.update(WARM_MALLOC)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--rounds", str(args.rounds)]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{backend:<12}error: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
            continue
        for line in proc.stdout.splitlines():
            name, padding, bias, fast, gather, ratio, picked = line.split("\t")
            print(f"{name:<12}{padding:<10}{bias:<7}{fast:>12}{gather:>11}{ratio:>14}  {picked}")


if __name__ == "__main__":
    main()
