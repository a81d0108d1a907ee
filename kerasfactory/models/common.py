"""What every forecaster here shares: argument checks, inputs and the output end.

Each model is a functional `keras.Model` whose inputs are, in this order,
each a named `keras.Input`:

- `x` `(batch, seq_len, n_vars)`: the past values;
- `x_mark` `(batch, seq_len, mark_dim)`: the past steps' timeF marks;
- `y_mark` `(batch, pred_len, mark_dim)`: the forecast steps' marks, only
  when built with `future_marks=True`;
- `x_future` `(batch, pred_len, future_dim)`: covariates known for the
  forecast steps, only when built with `future_dim > 0`;
- `future_mask` `(batch, pred_len, future_dim)`: 1 where a value of
  `x_future` is known, 0 where it is not, only with `future_mask=True`.

The output is `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` when
`target_index` is given (features "MS": every variate in, the target out).
Future covariates are fed as given: RevIN normalises `x` only (the data
pipeline scales the covariates).
"""

import inspect
import itertools
import numbers
from typing import NamedTuple

import keras
from keras import ops

from kerasfactory.layers import ReversibleInstanceNorm, validation

# The arguments every builder takes; the rest of a builder's keywords are its hyperparameters.
COMMON = (
    "seq_len", "pred_len", "n_vars", "mark_dim", "freq", "target_index", "seed",
    "future_marks", "future_dim", "future_mask",
)


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


def check_future(future_marks, future_dim, future_mask):
    """Validates the future-input arguments; returns `(future_marks, future_dim, future_mask)`."""
    future_marks = validation.flag("future_marks", future_marks)
    future_dim = validation.non_negative_int("future_dim", future_dim)
    future_mask = validation.flag("future_mask", future_mask)
    if future_mask and future_dim == 0:
        raise ValueError(
            "`future_mask` needs future covariates to mask: `future_dim` must be > 0 with future_mask=True, "
            "got future_dim=0"
        )
    return future_marks, future_dim, future_mask


def positive_ints(**values):
    """Each keyword's value as an `int`, in order; raises naming the first that is not a positive integer."""
    return tuple(validation.positive_int(name, value) for name, value in values.items())


def check_activation(activation):
    """Returns `activation` unchanged if Keras knows it (a name, a callable or a config), else raises."""
    validation.keras_object("activation", activation, keras.activations.get, "activation")
    return activation


def hyperparameters(builder):
    """`{name: default}` of `builder`'s hyperparameters: its keywords other than `COMMON`."""
    return {
        name: p.default
        for name, p in inspect.signature(builder).parameters.items()
        if name not in COMMON and p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def check_hparam_names(model_name, given, builder):
    """Raises a `TypeError` naming the first of `given` that `builder` does not take, listing those it does."""
    valid = hyperparameters(builder)
    unknown = sorted(set(given) - set(valid))
    if unknown:
        names = ", ".join(sorted(valid)) or "(none)"
        raise TypeError(f"`hparams` of {model_name!r} must be among {names}, got {unknown[0]!r}")


def seeds(seed):
    """Distinct dropout seeds `seed, seed + 1, ...`, or `None` forever when `seed` is `None`."""
    seed = validation.seed("seed", seed)
    return itertools.repeat(None) if seed is None else itertools.count(seed)


class Inputs(NamedTuple):
    """A model's `keras.Input`s; the optional ones are `None` when the model was built without them."""

    x: object
    x_mark: object
    y_mark: object = None
    x_future: object = None
    future_mask: object = None

    @property
    def all(self):
        """The inputs the model takes, in order (those that exist)."""
        return [t for t in self if t is not None]


def inputs(seq_len, pred_len, n_vars, mark_dim, future_marks=False, future_dim=0, future_mask=False):
    """The model inputs (see the module docstring), as `Inputs`; arguments already validated."""
    return Inputs(
        keras.Input((seq_len, n_vars), name="x"),
        keras.Input((seq_len, mark_dim), name="x_mark"),
        keras.Input((pred_len, mark_dim), name="y_mark") if future_marks else None,
        keras.Input((pred_len, future_dim), name="x_future") if future_dim else None,
        keras.Input((pred_len, future_dim), name="future_mask") if future_mask else None,
    )


@keras.saving.register_keras_serializable(package="kerasfactory")
class KnownFuture(validation.Layer):
    """Future covariates with a mask, as a model reads them: the known values and the mask.

    `y = [where(future_mask > 0, x_future, 0), float(future_mask > 0)]` along the
    last axis.
    An unknown value (mask 0) reads as 0 whatever it holds, NaN included,
    and the mask columns tell it apart from a known 0.

    Input shapes: `x_future`, `future_mask` `(batch, pred_len, k)`.
    Output shape: `(batch, pred_len, 2 k)`.

    Example:
    >>> import numpy as np
    >>> x = np.array([[[1.0], [np.nan]]], "float32")
    >>> keras.ops.convert_to_numpy(KnownFuture()(x, np.array([[[1.0], [0.0]]], "float32")))[0].tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """

    def call(self, x_future, future_mask):
        x_future = ops.cast(x_future, self.compute_dtype)
        known = ops.cast(future_mask, self.compute_dtype) > 0
        values = ops.where(known, x_future, ops.zeros_like(x_future))
        return ops.concatenate([values, ops.cast(known, self.compute_dtype)], axis=-1)

    def compute_output_shape(self, x_future_shape, future_mask_shape):
        width = x_future_shape[-1]
        return (*tuple(x_future_shape)[:-1], None if width is None else 2 * width)


def known_future(model_inputs):
    """`(batch, pred_len, k')`: `x_future`, or `KnownFuture(x_future, future_mask)` (`k' = 2 future_dim`)
    with a mask; `None` without future covariates."""
    if model_inputs.x_future is None:
        return None
    if model_inputs.future_mask is None:
        return model_inputs.x_future
    return KnownFuture(name="known_future")(model_inputs.x_future, model_inputs.future_mask)


def future_steps(model_inputs):
    """`(batch, pred_len, columns)`: `y_mark` then `known_future`, whichever exist; `None` if neither does."""
    parts = [t for t in (model_inputs.y_mark, known_future(model_inputs)) if t is not None]
    if len(parts) < 2:
        return parts[0] if parts else None
    return keras.layers.Concatenate(axis=-1, name="future_steps")(parts)


def normalise(x, n_vars, affine=True):
    """RevIN on `x` (a learned scale and shift per variate with `affine`, as RevIN's paper; none, as
    Time-Series-Library's models normalise); returns the layer, the normalised series and its statistics."""
    revin = ReversibleInstanceNorm(n_vars, affine=validation.flag("revin_affine", affine), name="revin")
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
