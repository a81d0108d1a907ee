"""What every forecaster here shares: argument checks, inputs and the output end.

Each model is a functional `keras.Model` with inputs `[x, x_mark]`
(`(batch, seq_len, n_vars)`, `(batch, seq_len, mark_dim)`) and output
`(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` when `target_index`
is given (features "MS": every variate in, the target out).
"""

import itertools
import numbers

import keras

from kerasfactory.layers import ReversibleInstanceNorm, validation


def check_sizes(seq_len, pred_len, n_vars, mark_dim, target_index):
    """Validates the shape arguments shared by all models; returns them as ints."""
    seq_len = validation.positive_int("seq_len", seq_len)
    pred_len = validation.positive_int("pred_len", pred_len)
    n_vars = validation.positive_int("n_vars", n_vars)
    mark_dim = validation.positive_int("mark_dim", mark_dim)
    if target_index is not None and (
        isinstance(target_index, bool)
        or not isinstance(target_index, numbers.Integral)
        or not 0 <= target_index < n_vars
    ):
        raise ValueError(f"`target_index` must be None or an integer in [0, {n_vars}), got {target_index!r}")
    return seq_len, pred_len, n_vars, mark_dim, None if target_index is None else int(target_index)


def seeds(seed):
    """Distinct dropout seeds `seed, seed + 1, ...`, or `None` forever when `seed` is `None`."""
    seed = validation.seed("seed", seed)
    return itertools.repeat(None) if seed is None else itertools.count(seed)


def inputs(seq_len, n_vars, mark_dim):
    """The two model inputs, `x` and `x_mark`."""
    return (
        keras.Input((seq_len, n_vars), name="x"),
        keras.Input((seq_len, mark_dim), name="x_mark"),
    )


def normalise(x, n_vars):
    """RevIN on `x`; returns the layer, the normalised series and its statistics."""
    revin = ReversibleInstanceNorm(n_vars, name="revin")
    x_norm, stats = revin(x, return_stats=True)
    return revin, x_norm, stats


def output(y_vars_first, revin, stats, target_index):
    """From `(batch, n_vars, pred_len)` in normalised units to the model output.

    Keeps only the target's row when `target_index` is given, moves time to
    axis 1 and denormalises with the input's statistics.
    """
    n_vars = y_vars_first.shape[1]
    if target_index is not None:
        y_vars_first = keras.layers.Cropping1D((target_index, n_vars - target_index - 1), name="target")(
            y_vars_first
        )
    y = keras.layers.Permute((2, 1), name="to_time_major")(y_vars_first)
    return revin(y, mode="denorm", stats=stats, feature_index=target_index)


def hparams(model_name, given, defaults):
    """Merges `given` over `defaults`, rejecting unknown names."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        names = ", ".join(sorted(defaults))
        raise TypeError(f"`hparams` of {model_name!r} must be among {names}, got {unknown[0]!r}")
    merged = {**defaults, **given}
    for key in ("d_model", "n_heads", "n_layers", "d_ff"):
        if key in merged:
            merged[key] = validation.positive_int(key, merged[key])
    if "dropout" in merged:
        merged["dropout"] = validation.probability("dropout", merged["dropout"])
    return merged
