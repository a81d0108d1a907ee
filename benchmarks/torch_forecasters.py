"""The kerasfactory forecasters written in PyTorch: the yardstick of `forecasters.py`.

Each class is the architecture of the `kerasfactory.models` builder of the
same name, layer for layer and size for size (the test checks that the
parameter counts match), on the embedding modules of `tests/reference_torch.py`
(Time-Series-Library semantics); TimeMixer is `tests/reference_timemixer.py`'s.
Constructors take the builders' sizes and hyperparameter names;
`forward(x, x_mark)` maps `(batch, seq_len, n_vars)` and
`(batch, seq_len, mark_dim)` timeF marks to `(batch, pred_len, n_vars)`.
Hourly data only (the benchmark's ETTh1).
"""

import sys

import torch
from torch import nn

import harness

if harness.ROOT not in sys.path:  # `tests` is a package of this repo's root
    sys.path.append(harness.ROOT)
from tests import reference_timemixer as ref_timemixer  # noqa: E402
from tests import reference_torch as ref  # noqa: E402

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class BatchNormOverFeatures(nn.Module):
    """`BatchNorm1d(d_model)` on `(batch, tokens, d_model)`: TSLib PatchTST's `Transpose, BatchNorm1d, Transpose`."""

    def __init__(self, d_model):
        super().__init__()
        self.norm = nn.BatchNorm1d(d_model)  # eps 1e-5, momentum 0.1: Keras' momentum 0.9

    def forward(self, h):
        return self.norm(h.transpose(1, 2)).transpose(1, 2)


class Encoder(nn.Module):
    """`models/encoder.py`: post-norm blocks `LN(h + Drop(MHA(h)))`, `LN(h + Drop(FF(h)))`, a final norm
    (LayerNorm, or with `final_norm="batch"` BatchNorm1d over d_model)."""

    def __init__(self, d_model, n_heads, n_layers, d_ff, dropout, activation="gelu", final_norm="layer"):
        super().__init__()
        self.attn = nn.ModuleList(
            nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True) for _ in range(n_layers)
        )
        self.ff = nn.ModuleList(
            nn.Sequential(nn.Linear(d_model, d_ff), ACTIVATIONS[activation](), nn.Dropout(dropout),
                          nn.Linear(d_ff, d_model))
            for _ in range(n_layers)
        )
        self.norm1 = nn.ModuleList(nn.LayerNorm(d_model, eps=1e-5) for _ in range(n_layers))
        self.norm2 = nn.ModuleList(nn.LayerNorm(d_model, eps=1e-5) for _ in range(n_layers))
        self.drop = nn.Dropout(dropout)
        if final_norm not in ("layer", "batch"):
            raise ValueError(f"`final_norm` must be 'layer' or 'batch', got {final_norm!r}")
        self.norm = nn.LayerNorm(d_model, eps=1e-5) if final_norm == "layer" else BatchNormOverFeatures(d_model)

    def forward(self, h):
        for attn, ff, n1, n2 in zip(self.attn, self.ff, self.norm1, self.norm2):
            h = n1(h + self.drop(attn(h, h, h, need_weights=False)[0]))
            h = n2(h + self.drop(ff(h)))
        return self.norm(h)


class Transformer(nn.Module):
    """`models/transformer.py`: RevIN, DataEmbedding (timeF), encoder over time, Dense to variates, Dense over time."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, d_model=64, n_heads=4, n_layers=2, d_ff=128,
                 dropout=0.1, activation="gelu", residual=True):
        super().__init__()
        self.residual = residual
        self.revin = ref.RevIN(n_vars)
        # kerasfactory's DataEmbedding keeps TokenEmbedding's defaults: "same" padding and a bias.
        self.embedding = ref.DataEmbedding(n_vars, d_model, "timeF", "h", dropout, padding="same", bias=True)
        self.encoder = Encoder(d_model, n_heads, n_layers, d_ff, dropout, activation)
        self.projection = nn.Linear(d_model, n_vars)
        self.head = nn.Linear(seq_len, pred_len)

    def forward(self, x, x_mark):
        x = self.revin(x, "norm")
        z = self.projection(self.encoder(self.embedding(x, x_mark)))
        if self.residual:
            z = z + x
        return self.revin(self.head(z.transpose(1, 2)).transpose(1, 2), "denorm")


class ITransformer(nn.Module):
    """`models/itransformer.py`: RevIN, inverted embedding (variates and marks as tokens), encoder, Dense head."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, d_model=128, n_heads=4, n_layers=2, d_ff=128,
                 dropout=0.1, activation="gelu", residual=False, revin_affine=True):
        super().__init__()
        self.n_vars = n_vars
        self.revin = ref.RevIN(n_vars, affine=revin_affine)
        self.embedding = ref.DataEmbeddingInverted(seq_len, d_model, dropout)
        self.encoder = Encoder(d_model, n_heads, n_layers, d_ff, dropout, activation)
        self.head = nn.Linear(d_model, pred_len)
        self.linear = nn.Linear(seq_len, pred_len) if residual else None

    def forward(self, x, x_mark):
        x = self.revin(x, "norm")
        y = self.head(self.encoder(self.embedding(x, x_mark)))[:, : self.n_vars]
        if self.linear is not None:
            y = y + self.linear(x.transpose(1, 2))
        return self.revin(y.transpose(1, 2), "denorm")


class PatchTST(nn.Module):
    """`models/patchtst.py`: RevIN, patches per variate, encoder over each variate's patches, flatten head.

    `head_dropout_position="after"` drops out the head's output (TSLib's `FlattenHead`), `final_norm="batch"`
    ends the encoder with BatchNorm1d over d_model and `revin_affine=False` normalises without affine
    parameters (TSLib's PatchTST, all three).
    """

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                 dropout=0.1, activation="gelu", patch_len=16, stride=8, head_dropout=0.0,
                 head_dropout_position="before", final_norm="layer", revin_affine=True):
        super().__init__()
        if head_dropout_position not in ("before", "after"):
            raise ValueError(f"`head_dropout_position` must be 'before' or 'after', got {head_dropout_position!r}")
        self.after = head_dropout_position == "after"
        self.revin = ref.RevIN(n_vars, affine=revin_affine)
        self.embedding = ref.PatchEmbedding(d_model, patch_len, stride, padding=stride, dropout=dropout)
        self.encoder = Encoder(d_model, n_heads, n_layers, d_ff, dropout, activation, final_norm)
        patches = (seq_len + stride - patch_len) // stride + 1
        self.head_dropout = nn.Dropout(head_dropout)
        self.head = nn.Linear(patches * d_model, pred_len)

    def forward(self, x, x_mark):
        x = self.revin(x, "norm")
        h, n_vars = self.embedding(x.transpose(1, 2))  # (batch * n_vars, patches, d_model)
        h = self.encoder(h).reshape(x.shape[0], n_vars, -1)  # flattened patch by patch, as Keras' Reshape
        y = self.head_dropout(self.head(h)) if self.after else self.head(self.head_dropout(h))
        return self.revin(y.transpose(1, 2), "denorm")


class CycleLinear(nn.Module):
    """`models/linear.py`: the `(period, n_vars)` cycle table, a Linear over time on the de-cycled series
    (with `revin=True`, of the series normalised by a RevIN without affine parameters, CycleNet's `use_revin`)."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, period=None, revin=False):
        super().__init__()
        self.seq_len, self.pred_len = seq_len, pred_len
        self.revin = ref.RevIN(n_vars, affine=False) if revin else None
        self.period = 24 if period is None else period  # steps per day at freq "h", as `cycle_period("h")`
        self.table = nn.Parameter(torch.zeros(self.period, n_vars))
        self.linear = nn.Linear(seq_len, pred_len)

    def forward(self, x, x_mark):
        if self.revin is not None:
            x = self.revin(x, "norm")
        hour = torch.round((x_mark[:, 0, 0] + 0.5) * 23)  # timeF hour of day of the first step
        phase = torch.round(hour * 3600 * (self.period / 86400.0)).long() % self.period
        steps = torch.arange(self.seq_len + self.pred_len, device=x.device)
        cycle = self.table[(phase[:, None] + steps) % self.period]  # (batch, seq_len + pred_len, n_vars)
        z = self.linear((x - cycle[:, : self.seq_len]).transpose(1, 2))
        y = z.transpose(1, 2) + cycle[:, self.seq_len :]
        return y if self.revin is None else self.revin(y, "denorm")


class RLinear(nn.Module):
    """`models/rlinear.py`: RevIN (affine by default), one Linear over time shared by the variates."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, revin_affine=True):
        super().__init__()
        self.revin = ref.RevIN(n_vars, affine=revin_affine)
        self.linear = nn.Linear(seq_len, pred_len)

    def forward(self, x, x_mark):
        x = self.revin(x, "norm")
        return self.revin(self.linear(x.transpose(1, 2)).transpose(1, 2), "denorm")


class DLinear(nn.Module):
    """`models/dlinear.py` as TSLib's `models/DLinear.py`: moving-average trend and seasonal rest, each mapped
    over time by a Linear shared by the variates (`individual`: one per variate), summed; no normalisation."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, moving_avg=25, individual=False):
        super().__init__()
        self.individual = individual
        self.decomposition = ref_timemixer.SeriesDecomp(moving_avg)  # TSLib's series_decomp

        def linear():
            layer = nn.Linear(seq_len, pred_len)
            nn.init.constant_(layer.weight, 1.0 / seq_len)  # as TSLib and the Keras kernels
            return layer

        count = n_vars if individual else 1
        self.linear_seasonal = nn.ModuleList(linear() for _ in range(count))
        self.linear_trend = nn.ModuleList(linear() for _ in range(count))

    def forward(self, x, x_mark):
        seasonal, trend = (part.transpose(1, 2) for part in self.decomposition(x))  # (batch, n_vars, seq_len)
        if self.individual:
            y = torch.stack([s(seasonal[:, i]) + t(trend[:, i]) for i, (s, t) in
                             enumerate(zip(self.linear_seasonal, self.linear_trend))], dim=1)
        else:
            y = self.linear_seasonal[0](seasonal) + self.linear_trend[0](trend)
        return y.transpose(1, 2)


class TimeMixer(ref_timemixer.TimeMixer):
    """`models/timemixer.py`: the Time-Series-Library TimeMixer of `tests/reference_timemixer.py`, with two
    changes that the Keras model has. Every variate of sample `b` reads sample `b`'s marks (the reference tiles
    them with `x_mark.repeat(n_vars, 1, 1)`, so that variate rows read other samples' marks; see
    `kerasfactory/models/variate_embedding.py`). The reference's unused parameters are dropped: each PDM
    block's `layer_norm` (created, never called) and, with `use_norm=False`, the per-scale `Normalize`
    affine parameters."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, d_model=16, d_ff=32, n_layers=2, dropout=0.1,
                 down_sampling_layers=3, down_sampling_window=2, down_sampling_method="avg",
                 decomp_method="moving_avg", moving_avg=25, top_k=5, channel_independence=True, use_norm=True,
                 mark_order="per_sample"):
        if down_sampling_method not in ("avg", "max") or decomp_method != "moving_avg" or not channel_independence:
            raise ValueError("only avg/max down-sampling, moving_avg decomposition and channel independence")
        if mark_order != "per_sample":
            raise ValueError("only mark_order='per_sample' (the reference's own tiling is tests/reference_timemixer.py)")
        super().__init__(ref_timemixer.configs(
            seq_len=seq_len, pred_len=pred_len, enc_in=n_vars, c_out=n_vars, d_model=d_model, d_ff=d_ff,
            e_layers=n_layers, dropout=dropout, freq="h", down_sampling_layers=down_sampling_layers,
            down_sampling_window=down_sampling_window, down_sampling_method=down_sampling_method,
            decomp_method=decomp_method, moving_avg=moving_avg, top_k=top_k, channel_independence=1,
            use_norm=int(use_norm),
        ))
        for block in self.pdm_blocks:
            block.layer_norm = None
        if not use_norm:
            for norm in self.normalize_layers:
                del norm.affine_weight, norm.affine_bias
                norm.affine = False

    def forward(self, x, x_mark):
        """The reference's forward with the marks tiled sample-major (`repeat_interleave`)."""
        x_enc, x_mark_enc = self._multi_scale_process_inputs(x, x_mark)
        x_list, x_mark_list = [], []
        for i, (x_i, mark_i) in enumerate(zip(x_enc, x_mark_enc)):
            batch, time, n_vars = x_i.size()
            x_i = self.normalize_layers[i](x_i, "norm")
            x_list.append(x_i.permute(0, 2, 1).contiguous().reshape(batch * n_vars, time, 1))
            x_mark_list.append(mark_i.repeat_interleave(n_vars, dim=0))  # row b * n_vars + n: sample b
        enc_out_list = [self.enc_embedding(x_i, mark_i) for x_i, mark_i in zip(x_list, x_mark_list)]
        for block in self.pdm_blocks:
            enc_out_list = block(enc_out_list)
        dec_out_list = []
        for i, enc_out in enumerate(enc_out_list):
            dec_out = self.predict_layers[i](enc_out.permute(0, 2, 1)).permute(0, 2, 1)
            dec_out = self.projection_layer(dec_out)
            dec_out_list.append(dec_out.reshape(batch, self.configs.c_out, self.pred_len).permute(0, 2, 1))
        dec_out = torch.stack(dec_out_list, dim=-1).sum(-1)
        return self.normalize_layers[0](dec_out, "denorm")


MODELS = {"transformer": Transformer, "itransformer": ITransformer, "patchtst": PatchTST, "linear": CycleLinear,
          "rlinear": RLinear, "dlinear": DLinear, "timemixer": TimeMixer}


def build(name, *, seq_len, pred_len, n_vars, mark_dim, **hparams):
    """The PyTorch forecaster `name` (a key of `MODELS`) with the Keras builder's hyperparameters."""
    return MODELS[name](seq_len, pred_len, n_vars, mark_dim, **hparams)


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
