"""TokenEmbedding beside the floors under it, against its targets, in one run.

    python benchmarks/floors.py [--backends jax tensorflow torch] [--rounds 3] [--malloc warm] [--loop hold] [--json PATH]

The Performance issue asks for TokenEmbedding forward <= 0.15 x the PyTorch
reference on the fastest backend and <= 0.5 x on every backend, and a train
step <= 0.2 x on the fastest. This script measures, per backend and in the
same run as the reference (rounds, processes and timing as in
`embeddings.py`, whose rows it reuses):

- the layer, as `embeddings.py` times it (eager call, circular, no bias);
- the contraction alone: one eager `ops.matmul` of the (batch * time,
  kernel_size * c_in) windows with the (kernel_size * c_in, d_model) kernel,
  i.e. the arithmetic and the 6.3 MB output that any body has to produce;
- the gather of the windows alone (one eager `ops.take` of the circular
  steps the layer reads);
- Keras's `Layer.__call__` around a layer that returns its input, and around
  a TokenEmbedding whose `call` returns its input (the same sub-layer and
  checks as the layer);
- the train step with `train_on_batch`, as `embeddings.py` times it, and the
  compiled train function alone (Keras's `model.train_function`, called as
  `train_on_batch` calls it, without `train_on_batch`'s own work: building
  the batch, writing the variables back, turning the logs into numpy);
- each target in milliseconds, from the reference of the same run, and per
  backend the floor of an eager forward (contraction + gather + the
  TokenEmbedding `__call__`) with the reference time at which 0.15 x would
  reach it.

A floor above its target means no body of the layer can meet that target on
this machine: the figures say where the time goes, not how to hide it.
"""

import json
import os

from embeddings import (
    C_IN,
    D_MODEL,
    keras_sync,
    keras_token_rows,
    machine,
    measure,
    reference_token_rows,
    run_rounds,
    setup,
)

ROWS = [
    ("token_forward", "TokenEmbedding forward (layer call)"),
    ("contraction", "  contraction alone (one eager ops.matmul)"),
    ("gather", "  gather of the windows (one eager ops.take)"),
    ("identity_call", "  Layer.__call__ of an identity layer"),
    ("hollow_call", "  __call__ of a TokenEmbedding returning x"),
    ("token_train_step", "TokenEmbedding train step (train_on_batch)"),
    ("train_function", "  compiled train function alone"),
]
# The reference row each of ours is divided by.
BASE = {"contraction": "token_forward", "gather": "token_forward", "identity_call": "token_forward",
        "hollow_call": "token_forward", "train_function": "token_train_step"}
# What any eager forward of the layer pays at least: its arithmetic, its windows and Keras's call.
FORWARD_FLOOR = ("contraction", "gather", "hollow_call")
TARGETS = [("token_forward", 0.15, "the fastest backend"), ("token_forward", 0.5, "every backend"),
           ("token_train_step", 0.2, "the fastest backend")]


def keras_worker(quick):
    import keras
    import numpy as np
    from keras import ops

    sync = keras_sync()
    repeats, rng, x, _ = setup(quick, ops.convert_to_tensor)
    results, model, target = keras_token_rows(x, rng, sync, repeats)

    width = 3 * C_IN
    windows = ops.convert_to_tensor(rng.standard_normal((x.shape[0] * x.shape[1], width)).astype("float32"))
    kernel = ops.convert_to_tensor(rng.standard_normal((width, D_MODEL)).astype("float32"))
    results["contraction"] = measure(lambda: ops.matmul(windows, kernel), sync, repeats)
    identity = keras.layers.Identity()
    results["identity_call"] = measure(lambda: identity(x), sync, repeats)

    from kerasfactory.layers import TokenEmbedding, indices

    steps = indices.window_steps(x.shape[1], 1, np.arange(3) - 1, x.shape[1], "wrap", x)
    results["gather"] = measure(lambda: ops.take(x, steps, axis=1), sync, repeats)

    class Hollow(TokenEmbedding):
        def call(self, inputs):
            return inputs

    hollow = Hollow(C_IN, D_MODEL, padding="circular", use_bias=False)
    results["hollow_call"] = measure(lambda: hollow(x), sync, repeats)

    # Last: on JAX the train function donates the model's variables.
    batch = (x, target, None)
    if keras.backend.backend() == "jax":
        state = [model._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                                      optimizer_variables=True, metrics_variables=True)]

        def step():
            state[0] = model.train_function(state[0], iter([batch]))[1]
            return state[0]
    elif keras.backend.backend() == "tensorflow":
        def step():
            return model.train_function(iter([batch]))
    else:
        def step():
            return model.train_function([batch])
    results["train_function"] = measure(step, sync, repeats)
    return results


def reference_worker(quick):
    import torch

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    repeats, rng, x, _ = setup(quick, torch.from_numpy)
    return reference_token_rows(x, rng, lambda out: out, repeats)


def table(results, backends):
    ref = results["reference"]
    head = f"{'row (B=32, T=96, c_in=7, d=512, float32)':<46}{'reference':>11}" + "".join(
        f"{b + ' ms':>15}{'ratio':>7}" for b in backends)
    lines = [head, "-" * len(head)]
    for key, label in ROWS:
        r = ref.get(key, {}).get("ms") if "error" not in ref else None
        line = f"{label:<46}" + (f"{r:>9.2f}ms" if r else f"{'':>11}")
        for b in backends:
            ours = None if "error" in results[b] else results[b].get(key, {}).get("ms")
            base = ref.get(BASE.get(key, key), {}).get("ms")
            ratio = f"{ours / base:>6.2f}x" if ours is not None and base else f"{'':>7}"
            line += f"{'error':>22}" if ours is None else f"{ours:>15.2f}{ratio}"
        lines.append(line)
    lines.append("")
    for key, share, where in TARGETS:
        r = ref.get(key, {}).get("ms")
        if r:
            lines.append(f"target: {dict(ROWS)[key].split(' (')[0]} <= {share} x reference on {where}"
                         f" = {share * r:.2f} ms")
    for b in backends:
        if "error" in results[b]:
            lines.append(f"{b}: error: {results[b]['error']}")
        elif all(key in results[b] for key in FORWARD_FLOOR):
            floor = sum(results[b][key]["ms"] for key in FORWARD_FLOOR)
            lines.append(f"{b}: forward floor (contraction + gather + call) = {floor:.2f} ms;"
                         f" 0.15 x reaches it from a reference of {floor / 0.15:.2f} ms")
    return "\n".join(lines)


def main(argv=None):
    args, results = run_rounds(argv, __doc__, __file__, reference_worker, keras_worker)
    if results is None:
        return
    info = machine()
    print(f"Machine: {info['cpu']}, {info['nproc']} cores; medians over {args.rounds} round(s); malloc {args.malloc}; loop {args.loop}")
    print(table(results, args.backends))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rounds": args.rounds, "malloc": args.malloc, "loop": args.loop, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
