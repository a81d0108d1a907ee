"""PyTorch TimeMixer with the Time-Series-Library semantics, for the parity tests.

Written from Time-Series-Library `models/TimeMixer.py` (with `series_decomp` of
`layers/Autoformer_EncDec.py`, `DataEmbedding_wo_pos` of `layers/Embed.py` and
`Normalize` of `layers/StandardNorm.py`): the long_term_forecast path with
`channel_independence=1`, "avg"/"max" down-sampling and "moving_avg"
decomposition. Module and parameter names are the reference's, so that the
state dict is a Time-Series-Library checkpoint's.
"""

from types import SimpleNamespace

import torch
from torch import nn

from tests.reference_torch import DataEmbeddingWithoutPosition


def configs(**overrides):
    """A Time-Series-Library `configs` namespace with TimeMixer's ETTh1 settings, updated by `overrides`."""
    base = dict(
        task_name="long_term_forecast", seq_len=96, label_len=0, pred_len=96, enc_in=7, c_out=7, d_model=16,
        d_ff=32, e_layers=2, dropout=0.1, embed="timeF", freq="h", down_sampling_layers=3,
        down_sampling_window=2, down_sampling_method="avg", decomp_method="moving_avg", moving_avg=25, top_k=5,
        channel_independence=1, use_norm=1,
    )
    return SimpleNamespace(**{**base, **overrides})


class MovingAvg(nn.Module):
    def __init__(self, kernel_size, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.avg = nn.AvgPool1d(kernel_size=kernel_size, stride=stride, padding=0)

    def forward(self, x):
        front = x[:, 0:1, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        end = x[:, -1:, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        x = torch.cat([front, x, end], dim=1)
        return self.avg(x.permute(0, 2, 1)).permute(0, 2, 1)


class SeriesDecomp(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.moving_avg = MovingAvg(kernel_size)

    def forward(self, x):
        trend = self.moving_avg(x)
        return x - trend, trend


class Normalize(nn.Module):
    def __init__(self, num_features, eps=1e-5, affine=False, non_norm=False):
        super().__init__()
        self.eps, self.affine, self.non_norm = eps, affine, non_norm
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(num_features))
            self.affine_bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x, mode):
        if mode == "norm":
            self.mean = torch.mean(x, dim=1, keepdim=True).detach()
            self.stdev = torch.sqrt(torch.var(x, dim=1, keepdim=True, unbiased=False) + self.eps).detach()
            if self.non_norm:
                return x
            x = (x - self.mean) / self.stdev
            return x * self.affine_weight + self.affine_bias if self.affine else x
        if self.non_norm:
            return x
        if self.affine:
            x = (x - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
        return x * self.stdev + self.mean


def _mlp(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.GELU(), nn.Linear(n_hidden, n_out))


class MultiScaleSeasonMixing(nn.Module):
    def __init__(self, c):
        super().__init__()
        t = [c.seq_len // c.down_sampling_window**i for i in range(c.down_sampling_layers + 1)]
        self.down_sampling_layers = nn.ModuleList(
            [_mlp(t[i], t[i + 1], t[i + 1]) for i in range(c.down_sampling_layers)]
        )

    def forward(self, season_list):
        out_high, out_low = season_list[0], season_list[1]
        out_season_list = [out_high.permute(0, 2, 1)]
        for i in range(len(season_list) - 1):
            out_low = out_low + self.down_sampling_layers[i](out_high)
            out_high = out_low
            if i + 2 <= len(season_list) - 1:
                out_low = season_list[i + 2]
            out_season_list.append(out_high.permute(0, 2, 1))
        return out_season_list


class MultiScaleTrendMixing(nn.Module):
    def __init__(self, c):
        super().__init__()
        t = [c.seq_len // c.down_sampling_window**i for i in range(c.down_sampling_layers + 1)]
        self.up_sampling_layers = nn.ModuleList(
            [_mlp(t[i + 1], t[i], t[i]) for i in reversed(range(c.down_sampling_layers))]
        )

    def forward(self, trend_list):
        reverse = list(reversed(trend_list))
        out_low, out_high = reverse[0], reverse[1]
        out_trend_list = [out_low.permute(0, 2, 1)]
        for i in range(len(reverse) - 1):
            out_high = out_high + self.up_sampling_layers[i](out_low)
            out_low = out_high
            if i + 2 <= len(reverse) - 1:
                out_high = reverse[i + 2]
            out_trend_list.append(out_low.permute(0, 2, 1))
        out_trend_list.reverse()
        return out_trend_list


class PastDecomposableMixing(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer_norm = nn.LayerNorm(c.d_model)  # as the reference: created, never used
        self.dropout = nn.Dropout(c.dropout)
        self.decompsition = SeriesDecomp(c.moving_avg)
        self.mixing_multi_scale_season = MultiScaleSeasonMixing(c)
        self.mixing_multi_scale_trend = MultiScaleTrendMixing(c)
        self.out_cross_layer = _mlp(c.d_model, c.d_ff, c.d_model)

    def forward(self, x_list):
        season_list, trend_list = [], []
        for x in x_list:
            season, trend = self.decompsition(x)
            season_list.append(season.permute(0, 2, 1))
            trend_list.append(trend.permute(0, 2, 1))
        out_season_list = self.mixing_multi_scale_season(season_list)
        out_trend_list = self.mixing_multi_scale_trend(trend_list)
        return [
            ori + self.out_cross_layer(season + trend)
            for ori, season, trend in zip(x_list, out_season_list, out_trend_list)
        ]


class TimeMixer(nn.Module):
    """`forward(x_enc, x_mark_enc, x_dec, x_mark_dec)` -> `(batch, pred_len, c_out)`; the marks may be None."""

    def __init__(self, c):
        super().__init__()
        assert c.channel_independence == 1 and c.decomp_method == "moving_avg"
        self.configs, self.pred_len = c, c.pred_len
        self.pdm_blocks = nn.ModuleList([PastDecomposableMixing(c) for _ in range(c.e_layers)])
        self.preprocess = SeriesDecomp(c.moving_avg)  # no parameters; unused with channel independence
        self.enc_embedding = DataEmbeddingWithoutPosition(1, c.d_model, c.embed, c.freq, c.dropout)
        self.normalize_layers = nn.ModuleList(
            [Normalize(c.enc_in, affine=True, non_norm=c.use_norm == 0) for _ in range(c.down_sampling_layers + 1)]
        )
        self.predict_layers = nn.ModuleList(
            [nn.Linear(c.seq_len // c.down_sampling_window**i, c.pred_len) for i in range(c.down_sampling_layers + 1)]
        )
        self.projection_layer = nn.Linear(c.d_model, 1, bias=True)

    def _multi_scale_process_inputs(self, x_enc, x_mark_enc):
        c = self.configs
        pool = nn.AvgPool1d(c.down_sampling_window) if c.down_sampling_method == "avg" else nn.MaxPool1d(
            c.down_sampling_window
        )
        x = x_enc.permute(0, 2, 1)
        xs, marks = [x_enc], [x_mark_enc]
        for _ in range(c.down_sampling_layers):
            x = pool(x)
            xs.append(x.permute(0, 2, 1))
            if x_mark_enc is not None:
                marks.append(marks[-1][:, :: c.down_sampling_window, :])
        return xs, (marks if x_mark_enc is not None else None)

    def forward(self, x_enc, x_mark_enc, x_dec=None, x_mark_dec=None):
        x_enc, x_mark_enc = self._multi_scale_process_inputs(x_enc, x_mark_enc)
        x_list, x_mark_list = [], []
        for i, x in enumerate(x_enc):
            batch, time, n_vars = x.size()
            x = self.normalize_layers[i](x, "norm")
            x_list.append(x.permute(0, 2, 1).contiguous().reshape(batch * n_vars, time, 1))
            if x_mark_enc is not None:
                x_mark_list.append(x_mark_enc[i].repeat(n_vars, 1, 1))  # as the reference (see VariateEmbedding)
        enc_out_list = [
            self.enc_embedding(x, x_mark_list[i] if x_mark_enc is not None else None) for i, x in enumerate(x_list)
        ]
        for block in self.pdm_blocks:
            enc_out_list = block(enc_out_list)
        dec_out_list = []
        for i, enc_out in enumerate(enc_out_list):
            dec_out = self.predict_layers[i](enc_out.permute(0, 2, 1)).permute(0, 2, 1)
            dec_out = self.projection_layer(dec_out)
            dec_out_list.append(dec_out.reshape(batch, self.configs.c_out, self.pred_len).permute(0, 2, 1))
        dec_out = torch.stack(dec_out_list, dim=-1).sum(-1)
        return self.normalize_layers[0](dec_out, "denorm")
