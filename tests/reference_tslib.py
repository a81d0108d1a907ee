"""PyTorch iTransformer, PatchTST, DLinear and Transformer with the Time-Series-Library semantics.

Written from Time-Series-Library `models/iTransformer.py`, `models/PatchTST.py`,
`models/DLinear.py`, `models/Transformer.py`, `layers/Transformer_EncDec.py`
and `layers/SelfAttention_Family.py` (`AttentionLayer`, `FullAttention`), on the
embeddings of `tests/reference_torch.py` (`layers/Embed.py`): the
long_term_forecast path. Module and parameter names are the reference's, so
that each state dict is a Time-Series-Library checkpoint's; `forward(x_enc,
x_mark_enc, x_dec, x_mark_dec)` returns `(batch, pred_len, channels)`.
TimeMixer is `tests/reference_timemixer.py`'s.
"""

from math import sqrt
from types import SimpleNamespace

import torch
from torch import nn
from torch.nn import functional as F

from tests import reference_torch as ref
from tests.reference_timemixer import SeriesDecomp


def configs(**overrides):
    """A Time-Series-Library `configs` namespace: `run.py`'s defaults, updated by `overrides`."""
    base = dict(
        task_name="long_term_forecast", seq_len=96, label_len=48, pred_len=96, enc_in=7, dec_in=7, c_out=7,
        d_model=512, n_heads=8, e_layers=2, d_layers=1, d_ff=2048, moving_avg=25, factor=1, dropout=0.1,
        embed="timeF", freq="h", activation="gelu", output_attention=False,
    )
    return SimpleNamespace(**{**base, **overrides})


class FullAttention(nn.Module):
    def __init__(self, mask_flag=True, attention_dropout=0.1):
        super().__init__()
        self.mask_flag = mask_flag
        self.dropout = nn.Dropout(attention_dropout)

    def forward(self, queries, keys, values):
        length, scale = queries.shape[1], 1.0 / sqrt(queries.shape[-1])
        scores = torch.einsum("blhe,bshe->bhls", queries, keys)
        if self.mask_flag:  # TriangularCausalMask: step l sees steps s <= l
            mask = torch.triu(torch.ones(length, length, dtype=torch.bool, device=scores.device), diagonal=1)
            scores = scores.masked_fill(mask, -float("inf"))
        weights = self.dropout(torch.softmax(scale * scores, dim=-1))
        return torch.einsum("bhls,bshd->blhd", weights, values).contiguous()


class AttentionLayer(nn.Module):
    def __init__(self, attention, d_model, n_heads):
        super().__init__()
        d_keys = d_model // n_heads
        self.inner_attention = attention
        self.query_projection = nn.Linear(d_model, d_keys * n_heads)
        self.key_projection = nn.Linear(d_model, d_keys * n_heads)
        self.value_projection = nn.Linear(d_model, d_keys * n_heads)
        self.out_projection = nn.Linear(d_keys * n_heads, d_model)
        self.n_heads = n_heads

    def forward(self, queries, keys, values):
        (batch, length, _), source, heads = queries.shape, keys.shape[1], self.n_heads
        out = self.inner_attention(
            self.query_projection(queries).view(batch, length, heads, -1),
            self.key_projection(keys).view(batch, source, heads, -1),
            self.value_projection(values).view(batch, source, heads, -1),
        )
        return self.out_projection(out.view(batch, length, -1))


def _activation(name):
    return F.relu if name == "relu" else F.gelu


class EncoderLayer(nn.Module):
    def __init__(self, attention, d_model, d_ff, dropout, activation):
        super().__init__()
        self.attention = attention
        self.conv1 = nn.Conv1d(d_model, d_ff, kernel_size=1)
        self.conv2 = nn.Conv1d(d_ff, d_model, kernel_size=1)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, x):
        y = x = self.norm1(x + self.dropout(self.attention(x, x, x)))
        y = self.dropout(self.activation(self.conv1(y.transpose(-1, 1))))
        y = self.dropout(self.conv2(y).transpose(-1, 1))
        return self.norm2(x + y)


class Encoder(nn.Module):
    def __init__(self, attn_layers, norm_layer):
        super().__init__()
        self.attn_layers, self.norm = nn.ModuleList(attn_layers), norm_layer

    def forward(self, x):
        for layer in self.attn_layers:
            x = layer(x)
        return self.norm(x)


def encoder(c, norm_layer):
    return Encoder(
        [EncoderLayer(AttentionLayer(FullAttention(False, c.dropout), c.d_model, c.n_heads), c.d_model, c.d_ff,
                      c.dropout, c.activation) for _ in range(c.e_layers)],
        norm_layer,
    )


class DecoderLayer(nn.Module):
    def __init__(self, self_attention, cross_attention, d_model, d_ff, dropout, activation):
        super().__init__()
        self.self_attention, self.cross_attention = self_attention, cross_attention
        self.conv1 = nn.Conv1d(d_model, d_ff, kernel_size=1)
        self.conv2 = nn.Conv1d(d_ff, d_model, kernel_size=1)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, x, cross):
        x = self.norm1(x + self.dropout(self.self_attention(x, x, x)))
        y = x = self.norm2(x + self.dropout(self.cross_attention(x, cross, cross)))
        y = self.dropout(self.activation(self.conv1(y.transpose(-1, 1))))
        y = self.dropout(self.conv2(y).transpose(-1, 1))
        return self.norm3(x + y)


class Decoder(nn.Module):
    def __init__(self, layers, norm_layer, projection):
        super().__init__()
        self.layers, self.norm, self.projection = nn.ModuleList(layers), norm_layer, projection

    def forward(self, x, cross):
        for layer in self.layers:
            x = layer(x, cross)
        return self.projection(self.norm(x))


def _normalise(x_enc):
    """The "Normalization from Non-stationary Transformer" of iTransformer and PatchTST."""
    means = x_enc.mean(1, keepdim=True).detach()
    x_enc = x_enc - means
    stdev = torch.sqrt(torch.var(x_enc, dim=1, keepdim=True, unbiased=False) + 1e-5)
    return x_enc / stdev, means, stdev


class ITransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.pred_len = c.pred_len
        self.enc_embedding = ref.DataEmbeddingInverted(c.seq_len, c.d_model, c.dropout)
        self.encoder = encoder(c, nn.LayerNorm(c.d_model))
        self.projection = nn.Linear(c.d_model, c.pred_len, bias=True)

    def forward(self, x_enc, x_mark_enc, x_dec=None, x_mark_dec=None):
        x_enc, means, stdev = _normalise(x_enc)
        n_vars = x_enc.shape[2]
        dec_out = self.projection(self.encoder(self.enc_embedding(x_enc, x_mark_enc))).permute(0, 2, 1)[:, :, :n_vars]
        return (dec_out * stdev[:, 0, :].unsqueeze(1) + means[:, 0, :].unsqueeze(1))[:, -self.pred_len:]


class Transpose(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.transpose(*self.dims)


class FlattenHead(nn.Module):
    def __init__(self, nf, target_window, head_dropout=0):
        super().__init__()
        self.flatten = nn.Flatten(start_dim=-2)
        self.linear = nn.Linear(nf, target_window)
        self.dropout = nn.Dropout(head_dropout)

    def forward(self, x):  # (batch, n_vars, d_model, patch_num)
        return self.dropout(self.linear(self.flatten(x)))


class PatchTST(nn.Module):
    def __init__(self, c, patch_len=16, stride=8):
        super().__init__()
        self.pred_len = c.pred_len
        self.patch_embedding = ref.PatchEmbedding(c.d_model, patch_len, stride, stride, c.dropout)
        self.encoder = encoder(c, nn.Sequential(Transpose(1, 2), nn.BatchNorm1d(c.d_model), Transpose(1, 2)))
        self.head_nf = c.d_model * int((c.seq_len - patch_len) / stride + 2)
        self.head = FlattenHead(self.head_nf, c.pred_len, head_dropout=c.dropout)

    def forward(self, x_enc, x_mark_enc=None, x_dec=None, x_mark_dec=None):
        x_enc, means, stdev = _normalise(x_enc)
        enc_out, n_vars = self.patch_embedding(x_enc.permute(0, 2, 1))
        enc_out = self.encoder(enc_out)
        enc_out = torch.reshape(enc_out, (-1, n_vars, enc_out.shape[-2], enc_out.shape[-1])).permute(0, 1, 3, 2)
        dec_out = self.head(enc_out).permute(0, 2, 1)
        return (dec_out * stdev[:, 0, :].unsqueeze(1) + means[:, 0, :].unsqueeze(1))[:, -self.pred_len:]


class DLinear(nn.Module):
    def __init__(self, c, individual=False):
        super().__init__()
        self.seq_len, self.pred_len, self.individual, self.channels = c.seq_len, c.pred_len, individual, c.enc_in
        self.decompsition = SeriesDecomp(c.moving_avg)

        def linear():
            layer = nn.Linear(self.seq_len, self.pred_len)
            layer.weight = nn.Parameter((1 / self.seq_len) * torch.ones([self.pred_len, self.seq_len]))
            return layer

        if individual:
            self.Linear_Seasonal = nn.ModuleList([linear() for _ in range(self.channels)])
            self.Linear_Trend = nn.ModuleList([linear() for _ in range(self.channels)])
        else:
            self.Linear_Seasonal, self.Linear_Trend = linear(), linear()

    def forward(self, x_enc, x_mark_enc=None, x_dec=None, x_mark_dec=None):
        seasonal, trend = (part.permute(0, 2, 1) for part in self.decompsition(x_enc))
        if self.individual:
            seasonal_out = torch.stack([self.Linear_Seasonal[i](seasonal[:, i]) for i in range(self.channels)], 1)
            trend_out = torch.stack([self.Linear_Trend[i](trend[:, i]) for i in range(self.channels)], 1)
        else:
            seasonal_out, trend_out = self.Linear_Seasonal(seasonal), self.Linear_Trend(trend)
        return (seasonal_out + trend_out).permute(0, 2, 1)[:, -self.pred_len:]


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.pred_len = c.pred_len
        self.enc_embedding = ref.DataEmbedding(c.enc_in, c.d_model, c.embed, c.freq, c.dropout)
        self.encoder = encoder(c, nn.LayerNorm(c.d_model))
        self.dec_embedding = ref.DataEmbedding(c.dec_in, c.d_model, c.embed, c.freq, c.dropout)
        self.decoder = Decoder(
            [DecoderLayer(AttentionLayer(FullAttention(True, c.dropout), c.d_model, c.n_heads),
                          AttentionLayer(FullAttention(False, c.dropout), c.d_model, c.n_heads),
                          c.d_model, c.d_ff, c.dropout, c.activation) for _ in range(c.d_layers)],
            nn.LayerNorm(c.d_model),
            nn.Linear(c.d_model, c.c_out, bias=True),
        )

    def forward(self, x_enc, x_mark_enc, x_dec, x_mark_dec):
        enc_out = self.encoder(self.enc_embedding(x_enc, x_mark_enc))
        return self.decoder(self.dec_embedding(x_dec, x_mark_dec), enc_out)[:, -self.pred_len:]


MODELS = {"iTransformer": ITransformer, "PatchTST": PatchTST, "DLinear": DLinear, "Transformer": Transformer}
