"""TimeMixer: past series mixed across time scales, one linear predictor per scale.

Weight names, Time-Series-Library `models/TimeMixer.py` (long_term_forecast,
`channel_independence=1`) state dict -> this model (`layer/sub-layer/weight`;
a Linear's `weight` is the transpose of the Dense `kernel`, a Conv1d's
`weight` `(d_model, 1, 3)` is the Conv1D `kernel` `(3, 1, d_model)` axes reversed):

    normalize_layers.{i}.affine_weight / affine_bias   normalize_layers_{i}/affine_weight / affine_bias
    enc_embedding.value_embedding.tokenConv.weight      enc_embedding/embedding/value_embedding/conv/kernel
    enc_embedding.temporal_embedding.embed.weight       enc_embedding/embedding/temporal_embedding/embed/kernel
    pdm_blocks.{k}.<path>.{weight, bias}                pdm_blocks_{k}/<path, dots as underscores>/{kernel, bias}
        (<path>: mixing_multi_scale_season.down_sampling_layers.{i}.{0,2},
        mixing_multi_scale_trend.up_sampling_layers.{j}.{0,2}, out_cross_layer.{0,2})
    predict_layers.{i}.weight / bias                    predict_layers_{i}/kernel / bias
    projection_layer.weight / bias                      projection_layer/kernel / bias

Not mapped: `pdm_blocks.{k}.layer_norm.*` and the buffer `enc_embedding.position_embedding.pe`
(created, never used by the reference's forward), and `normalize_layers.*` with
`use_norm=False`. Here only: `future_linear/kernel` (future inputs; zeros from a checkpoint).
`tests/test_timemixer.py` (`keras_path`, `load_reference_weights`) applies this mapping.
"""

import keras

from kerasfactory.layers import ReversibleInstanceNorm, validation
from kerasfactory.models import common
from kerasfactory.models.decomposable_mixing import PastDecomposableMixing
from kerasfactory.models.multiscale_inputs import MultiScaleInputs
from kerasfactory.models.transformer import _extra_mark_columns
from kerasfactory.models.variate_embedding import MARK_ORDERS, VariateEmbedding

# The reference's options that this model does not reproduce, and why.
UNSUPPORTED = {
    ("down_sampling_method", "conv"): "Time-Series-Library's 'conv' builds a new, randomly initialised and "
    "never trained Conv1d on every forward pass",
    ("decomp_method", "dft_decomp"): "Time-Series-Library's 'dft_decomp' transforms along d_model, not time, "
    "and keeps its top 5 frequencies by a threshold over the whole batch (ignoring top_k)",
    ("channel_independence", False): "only the channel-independent TimeMixer is built",
}


def _check_supported(**values):
    for name, value in values.items():
        reason = UNSUPPORTED.get((name, value))
        if reason is not None:
            raise ValueError(f"`{name}`={value!r} is not supported: {reason}")


def build_timemixer(
    *, seq_len, pred_len, n_vars, mark_dim, freq="h", target_index=None, seed=None,
    future_marks=False, future_dim=0, future_mask=False,
    d_model=16, d_ff=32, n_layers=2, dropout=0.1, down_sampling_layers=3, down_sampling_window=2,
    down_sampling_method="avg", decomp_method="moving_avg", moving_avg=25, top_k=5, channel_independence=True,
    use_norm=True, mark_order="per_sample",
):
    """TimeMixer: each variate alone, at `L + 1` time scales, mixed by PDM blocks, read by linear predictors.

    `x_i = pool^i(x)` (`MultiScaleInputs`: `down_sampling_window`-wide
    average or max pooling, `i = 0 .. L`, `L = down_sampling_layers`) with
    marks `x_mark[:, ::window ** i]`; with `use_norm`, each scale has its own
    RevIN (`normalize_layers_{i}`, affine, Time-Series-Library's `Normalize`);
    `h_i = VariateEmbedding(d_model)(x_i, mark_i)` `(batch, n_vars, T_i, d_model)`,
    each variate embedded alone (a conv from 1 channel) plus its sample's timeF marks
    (`mark_order="tslib"`: the marks Time-Series-Library's tiling gives it);
    `n_layers` `PastDecomposableMixing` blocks mix the scales (season
    bottom-up, trend top-down); then `y = sum_i projection(predict_i(h_i))`,
    `predict_i` a `Dense(T_i -> pred_len)` along time, `projection` a shared
    `Dense(d_model -> 1)`; `y += future_linear(u)` for the forecast steps'
    columns `u = [y_mark, x_future (, mask)]` `(batch, pred_len, F)`, a
    `Dense(n_vars, use_bias=False)` starting at zeros (so the model starts as the
    past-only one and a Time-Series-Library checkpoint predicts as there),
    added in the normalised units of scale 0; with a mask the covariates read
    `where(mask > 0, x_future, 0)` and the mask is part of `u`;
    `denorm(y)` with scale 0's RevIN and statistics. Future covariates are not
    normalised. Dropout acts on the embedding only (as in the reference).

    Args:
        seq_len, pred_len: input and forecast lengths; `seq_len` must be a
            multiple of `down_sampling_window ** down_sampling_layers`.
        n_vars: number of input variates.
        mark_dim: timeF mark columns, `FREQ_WIDTH[freq]` or more (extra
            continuous columns after them).
        freq: frequency of the marks.
        target_index: `None` for all variates out, or the one to forecast.
        seed: seeds the dropout mask (`None`: unseeded).
        future_marks, future_dim, future_mask: the future inputs (see
            `kerasfactory.models.common`).
        d_model: token width. Defaults to 16.
        d_ff: hidden width of the blocks' channel MLP. Defaults to 32.
        n_layers: PDM blocks (the reference's `e_layers`). Defaults to 2.
        dropout: dropout rate of the embedding. Defaults to 0.1.
        down_sampling_layers: coarser scales `L`, >= 1. Defaults to 3.
        down_sampling_window: length ratio of consecutive scales. Defaults to 2.
        down_sampling_method: "avg" (default) or "max" pooling ("conv" is refused).
        decomp_method: "moving_avg" (default; "dft_decomp" is refused).
        moving_avg: odd width of the decomposition's moving average. Defaults to 25.
        top_k: the reference's "dft_decomp" option; checked, unused. Defaults to 5.
        channel_independence: must be True (the default, the reference's ETT setting).
        use_norm: RevIN per scale; False feeds the raw series (the reference's
            `use_norm=0`). Defaults to True.
        mark_order: which sample's marks each variate reads. `"per_sample"`
            (default): its own sample's, so a forecast does not depend on the
            rest of the batch. `"tslib"`: the reference's `x_mark.repeat(N, 1, 1)`
            tiling against its sample-major series rows, under which variate
            `n` of sample `b` reads sample `(b * n_vars + n) % batch`'s marks;
            for Time-Series-Library checkpoints (`kerasfactory.interop.from_tslib`),
            whose whole-batch predictions it then equals. The two agree for a
            batch of 1 or samples sharing their marks (see `VariateEmbedding`).

    Inputs, in order, and output: those of every forecaster (`kerasfactory.models.common`):
    `x`, `x_mark`, then as built `y_mark`, `x_future`, `future_mask`; output
    `(batch, pred_len, n_vars)`, or `(batch, pred_len, 1)` with `target_index`.
    Returns an uncompiled `keras.Model`; weight names follow the reference's
    state dict (see this module's docstring).

    Example:
    >>> model = build_timemixer(seq_len=32, pred_len=8, n_vars=3, mark_dim=4, down_sampling_layers=2, future_dim=1)
    >>> [t.name for t in model.inputs], model.output.shape
    (['x', 'x_mark', 'x_future'], (None, 8, 3))

    Reference: Wang et al., "TimeMixer: Decomposable Multiscale Mixing for
    Time Series Forecasting", ICLR 2024 (Time-Series-Library `models/TimeMixer.py`).
    """
    seq_len, pred_len, n_vars, mark_dim, target_index = common.check_sizes(
        seq_len, pred_len, n_vars, mark_dim, target_index
    )
    future_marks, future_dim, future_mask = common.check_future(future_marks, future_dim, future_mask)
    d_model, d_ff, n_layers, layers, window, moving_avg, _ = common.positive_ints(
        d_model=d_model, d_ff=d_ff, n_layers=n_layers, down_sampling_layers=down_sampling_layers,
        down_sampling_window=down_sampling_window, moving_avg=moving_avg, top_k=top_k,
    )
    dropout = validation.probability("dropout", dropout)
    channel_independence = validation.flag("channel_independence", channel_independence)
    use_norm = validation.flag("use_norm", use_norm)
    _check_supported(down_sampling_method=down_sampling_method, decomp_method=decomp_method,
                     channel_independence=channel_independence)
    method = validation.one_of("down_sampling_method", down_sampling_method, ("avg", "max"))
    mark_order = validation.one_of("mark_order", mark_order, MARK_ORDERS)
    validation.one_of("decomp_method", decomp_method, ("moving_avg",))
    if moving_avg % 2 == 0:
        raise ValueError(f"`moving_avg` must be a positive odd integer, got {moving_avg!r}")
    if seq_len % window**layers:
        raise ValueError(
            f"`seq_len` must be a multiple of down_sampling_window ** down_sampling_layers = {window**layers}, "
            f"got {seq_len}"
        )
    extra = _extra_mark_columns(mark_dim, freq)
    seeds = common.seeds(seed)
    inputs = common.inputs(seq_len, pred_len, n_vars, mark_dim, future_marks, future_dim, future_mask)

    scales = MultiScaleInputs(layers, window, method, name="multi_scale_inputs")(inputs.x, inputs.x_mark)
    embedding = VariateEmbedding(d_model, freq, dropout, seed=next(seeds), mark_order=mark_order,
                                 name="enc_embedding", **extra)
    h, norms = [], []
    for i, (x, marks) in enumerate(zip(scales[: layers + 1], scales[layers + 1 :])):
        if use_norm:
            norm = ReversibleInstanceNorm(n_vars, affine=True, name=f"normalize_layers_{i}")
            x, stats = norm(x, return_stats=True)
            norms.append((norm, stats))
        h.append(embedding(x, marks))  # (batch, n_vars, T_i, d_model)
    for k in range(n_layers):
        h = PastDecomposableMixing(seq_len, d_model, d_ff, window, layers, moving_avg, name=f"pdm_blocks_{k}")(h)

    projection = keras.layers.Dense(1, name="projection_layer")
    forecasts = []
    for i, h_i in enumerate(h):
        y = keras.layers.Permute((1, 3, 2), name=f"time_last_{i}")(h_i)
        y = keras.layers.Dense(pred_len, name=f"predict_layers_{i}")(y)
        y = projection(keras.layers.Permute((1, 3, 2), name=f"features_last_{i}")(y))
        forecasts.append(keras.layers.Reshape((n_vars, pred_len), name=f"forecast_{i}")(y))
    y = keras.layers.Add(name="future_multi_mixing")(forecasts)  # (batch, n_vars, pred_len)

    future = common.future_steps(inputs)
    if future is not None:
        f = keras.layers.Dense(n_vars, use_bias=False, kernel_initializer="zeros", name="future_linear")(future)
        y = keras.layers.Add(name="future_add")([y, keras.layers.Permute((2, 1), name="future_vars_first")(f)])
    if use_norm:
        y = common.output(y, *norms[0], target_index)
    else:
        if target_index is not None:
            y = keras.layers.Cropping1D((target_index, n_vars - target_index - 1), name="target")(y)
        y = keras.layers.Permute((2, 1), name="to_time_major")(y)
    return keras.Model(inputs.all, y, name="timemixer")


DEFAULTS = common.hyperparameters(build_timemixer)
