"""Which eager body of TokenEmbedding is faster, per backend: the evidence for its choice.

    python benchmarks/token_paths.py [--backends jax tensorflow torch] [--malloc warm] [--rounds 12]

TokenEmbedding computes an eager call one of three ways: a gather of the
shifted steps and one contraction with the kernel (`_gather_contract`), one
`ops.conv` of the input (`_eager_conv`, "same" padding only), or the input
rolled once per kernel tap, side by side (times a 0/1 mask of the steps that
wrapped, for zero padding), and one matmul (`_rolls_matmul`). `call` picks,
on TensorFlow, the conv for "same" padding without a bias and the rolls
otherwise; on JAX the conv for "same"; the gather everywhere else. This script
times, on the same layer and input (batch 32, time 96, c_in 7, d_model 512,
float32) in one process per backend, every body the padding allows,
interleaved: each round times each body for about 0.05 s (after warm-up, as
`embeddings.py` times), one after another; the times are medians over the
rounds, each ratio the median of the rounds' ratios to the gather.
Keras's `Layer.__call__` is left out: it costs every body the same.
A ratio below 1 means that body is faster than the gather; `picked` is what
`call` runs. Rerun it when Keras or a backend is upgraded: the choice is a
measurement. `temporal_paths.py` shares its driver (`run`, `interleaved`, `ratio`).
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


def interleaved(bodies, rounds, sync, measure=measure):
    """Each body's time (ms) in each of `rounds` rounds; a round times every body once, back to back."""
    ms = {name: [] for name in bodies}
    for _ in range(rounds):
        for name, fn in bodies.items():
            ms[name].append(measure(fn, sync, 1, target_s=0.05)["ms"])
    return ms


def ratio(ms, name, base):
    """The median of the rounds' ratios of body `name` to body `base`, formatted, or "-" if not timed.

    The bodies of a round ran back to back, so the machine's drift between rounds cancels out.
    """
    return f"{statistics.median(a / b for a, b in zip(ms[name], ms[base])):.2f}" if name in ms else "-"


def rows(rounds, measure=measure):
    """One tab-separated line per configuration: backend, padding, bias, gather ms, rolls and conv ratios, picked."""
    import keras
    import numpy as np

    from kerasfactory.layers import TokenEmbedding

    sync = keras_sync()
    x = keras.ops.convert_to_tensor(np.random.default_rng(0).standard_normal((32, 96, 7)).astype("float32"))
    for padding, bias in CONFIGS:
        layer = TokenEmbedding(7, 512, padding=padding, use_bias=bias)
        layer(x)
        ms = interleaved(layer._eager_bodies(x, 96), rounds, sync, measure)
        yield "\t".join([keras.backend.backend(), padding, str(bias), f"{statistics.median(ms['gather']):.2f}",
                         ratio(ms, "rolls", "gather"), ratio(ms, "conv", "gather"), layer._eager_path()])


def main(argv=None):
    header = f"{'backend':<12}{'padding':<10}{'bias':<7}{'gather ms':>11}{'rolls/gather':>14}{'conv/gather':>13}  picked"
    run(argv, __doc__, __file__, rows, header,
        lambda name, padding, bias, gather, rolls, conv, picked:
        f"{name:<12}{padding:<10}{bias:<7}{gather:>11}{rolls:>14}{conv:>13}  {picked}")


def run(argv, doc, script, rows, header, format_line):
    """The command line of the path scripts. With `--worker`, prints `rows(rounds)`;
    otherwise runs `script --worker` in a fresh process per backend and prints its lines,
    split at tabs and passed to `format_line`, under `header`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--malloc", choices=("default", "warm"), default="default")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.path.insert(0, ROOT)
        for line in rows(args.rounds):
            print(line, flush=True)
        return
    print(f"malloc {args.malloc}, medians over {args.rounds} interleaved rounds")
    print(header)
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
        if args.malloc == "warm":
            env.update(WARM_MALLOC)
        cmd = [sys.executable, os.path.abspath(script), "--worker", "--rounds", str(args.rounds)]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{backend:<12}error: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
            continue
        for line in proc.stdout.splitlines():
            print(format_line(*line.split("\t")))


if __name__ == "__main__":
    main()
