"""TimeMixer's Past-Decomposable-Mixing block: season mixed bottom-up, trend top-down, across scales."""

import keras
from keras import ops

from kerasfactory.layers import SeriesDecomposition, validation


def _lengths(seq_len, window, layers):
    return [seq_len // window**i for i in range(layers + 1)]


@keras.saving.register_keras_serializable(package="kerasfactory")
class PastDecomposableMixing(validation.Layer):
    """One PDM block of TimeMixer (channel-independent), on the scales `x_0 .. x_L`.

    Each scale `x_i` `(..., T_i, d_model)`, `T_i = seq_len // window ** i`,
    is split `s_i, t_i = SeriesDecomposition(moving_avg)(x_i)` (along time).
    Season, bottom-up (fine to coarse): `s'_0 = s_0`,
    `s'_{i+1} = s_{i+1} + S_i(s'_i)`; trend, top-down (coarse to fine):
    `t'_L = t_L`, `t'_i = t_i + U_i(t'_{i+1})`, where `S_i`, `U_i` are
    `Linear -> GELU -> Linear` maps along time (`T_i -> T_{i+1} -> T_{i+1}`,
    `T_{i+1} -> T_i -> T_i`); out `x_i + C(s'_i + t'_i)` with
    `C = Linear(d_model -> d_ff) -> GELU -> Linear(d_ff -> d_model)`.
    GELU is the exact (erf) one.

    Sub-layers (Time-Series-Library `PastDecomposableMixing` state-dict names,
    dots as underscores; `kernel` is the transposed `weight`):
    `mixing_multi_scale_season_down_sampling_layers_{i}_0` / `_2` for `S_i`,
    `mixing_multi_scale_trend_up_sampling_layers_{j}_0` / `_2` for `U_i`
    with `j = L - 1 - i` (the reference lists them coarse first),
    `out_cross_layer_0` / `_2` for `C`, and `decomposition` (no weights).
    The reference's `layer_norm` and `dropout` are never used in its forward
    and have no counterpart here.

    Args:
        seq_len: length `T_0` of the finest scale.
        d_model, d_ff: token width and hidden width of `C`.
        down_sampling_window: length ratio of consecutive scales.
        down_sampling_layers: `L`, the number of coarser scales (>= 1).
        moving_avg: the decomposition's moving-average width, odd. Defaults to 25.

    Input: the list `[x_0, ..., x_L]`, `x_i` `(..., T_i, d_model)` (any
    leading axes). Output: the list of the mixed scales, shapes unchanged.
    """

    def __init__(self, seq_len, d_model, d_ff, down_sampling_window, down_sampling_layers, moving_avg=25, **kwargs):
        super().__init__(**kwargs)
        self.seq_len = validation.positive_int("seq_len", seq_len)
        self.d_model = validation.positive_int("d_model", d_model)
        self.d_ff = validation.positive_int("d_ff", d_ff)
        self.down_sampling_window = validation.positive_int("down_sampling_window", down_sampling_window)
        self.down_sampling_layers = validation.positive_int("down_sampling_layers", down_sampling_layers)
        self.moving_avg = validation.positive_int("moving_avg", moving_avg)
        if self.moving_avg % 2 == 0:
            raise ValueError(f"`moving_avg` must be a positive odd integer, got {moving_avg!r}")
        self.lengths = _lengths(self.seq_len, self.down_sampling_window, self.down_sampling_layers)
        policy = self.dtype_policy

        def dense(units, name):
            return keras.layers.Dense(units, dtype=policy, name=name)

        self.decomposition = SeriesDecomposition(self.moving_avg, dtype=policy, name="decomposition")
        season, trend = "mixing_multi_scale_season_down_sampling_layers", "mixing_multi_scale_trend_up_sampling_layers"
        self.season_layers = [
            (dense(self.lengths[i + 1], f"{season}_{i}_0"), dense(self.lengths[i + 1], f"{season}_{i}_2"))
            for i in range(self.down_sampling_layers)
        ]
        self.trend_layers = [  # coarse first, as the reference lists them: j = 0 maps T_L -> T_{L-1}
            (dense(self.lengths[i], f"{trend}_{j}_0"), dense(self.lengths[i], f"{trend}_{j}_2"))
            for j, i in enumerate(reversed(range(self.down_sampling_layers)))
        ]
        self.out_cross_layer = (dense(self.d_ff, "out_cross_layer_0"), dense(self.d_model, "out_cross_layer_2"))

    def build(self, input_shapes):
        if len(input_shapes) != len(self.lengths):
            raise ValueError(f"`x_list` must hold {len(self.lengths)} scales, got {len(input_shapes)}")
        for i, shape in enumerate(input_shapes):
            expected = (self.lengths[i], self.d_model)
            if tuple(shape[-2:]) != expected:
                raise ValueError(f"`x_list[{i}]` last two dimensions must be (T_{i}, d_model)={expected}, "
                                 f"got {tuple(shape)}")
        self.decomposition.build((None, None, self.d_model))
        for i, (first, second) in enumerate(self.season_layers):
            first.build((None, self.lengths[i]))
            second.build((None, self.lengths[i + 1]))
        for j, (first, second) in enumerate(self.trend_layers):
            first.build((None, self.lengths[self.down_sampling_layers - j]))
            second.build((None, self.lengths[self.down_sampling_layers - j - 1]))
        self.out_cross_layer[0].build((None, self.d_model))
        self.out_cross_layer[1].build((None, self.d_ff))

    @staticmethod
    def _mlp(layers, x):
        return layers[1](ops.gelu(layers[0](x), approximate=False))

    def _decompose(self, x):
        # SeriesDecomposition pools along axis 1: fold the leading axes into one batch axis and back.
        shape = ops.shape(x)
        season, trend = self.decomposition(ops.reshape(x, (-1, x.shape[-2], x.shape[-1])))
        return ops.reshape(season, shape), ops.reshape(trend, shape)

    def call(self, x_list):
        x_list = [ops.cast(x, self.compute_dtype) for x in x_list]
        seasons, trends = [], []
        for x in x_list:
            season, trend = self._decompose(x)
            seasons.append(ops.swapaxes(season, -1, -2))  # (..., d_model, T_i): the maps act along time
            trends.append(ops.swapaxes(trend, -1, -2))
        mixed_seasons = [seasons[0]]
        for i, layers in enumerate(self.season_layers):
            mixed_seasons.append(seasons[i + 1] + self._mlp(layers, mixed_seasons[-1]))
        mixed_trends = [trends[-1]]
        for j, layers in enumerate(self.trend_layers):
            mixed_trends.append(trends[-2 - j] + self._mlp(layers, mixed_trends[-1]))
        mixed_trends.reverse()
        return [
            x + self._mlp(self.out_cross_layer, ops.swapaxes(season + trend, -1, -2))
            for x, season, trend in zip(x_list, mixed_seasons, mixed_trends)
        ]

    def compute_output_shape(self, input_shapes):
        return [tuple(shape) for shape in input_shapes]

    def get_config(self):
        config = super().get_config()
        config.update(
            seq_len=self.seq_len, d_model=self.d_model, d_ff=self.d_ff, down_sampling_window=self.down_sampling_window,
            down_sampling_layers=self.down_sampling_layers, moving_avg=self.moving_avg,
        )
        return config
