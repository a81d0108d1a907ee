"""PyTorch modules with the Time-Series-Library reference semantics.

Written once from the published formulas (Time-Series-Library `layers/Embed.py`,
`layers/StandardNorm.py`; RevIN, Kim et al. ICLR 2022) and used by the parity
tests, the interop tests and the benchmarks. Parameter names match the
reference modules so that their state dicts are the reference's.
"""

import math

import torch
from torch import nn


def sinusoid(rows, d_model):
    pe = torch.zeros(rows, d_model, dtype=torch.float32)
    position = torch.arange(0, rows, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * -(math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div[: d_model // 2])
    return pe


class PositionalEmbedding(nn.Module):
    def __init__(self, d_model, max_len=5000):
        super().__init__()
        self.register_buffer("pe", sinusoid(max_len, d_model).unsqueeze(0))

    def forward(self, x):
        return self.pe[:, : x.size(1)]


class TokenEmbedding(nn.Module):
    """Reference: kernel 3, circular padding, no bias. Options widen it for parity tests."""

    def __init__(self, c_in, d_model, kernel_size=3, padding="circular", bias=False):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.tokenConv = nn.Conv1d(c_in, d_model, kernel_size, padding=0, bias=bias)
        nn.init.kaiming_normal_(self.tokenConv.weight, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x):
        x = x.permute(0, 2, 1)
        total = self.kernel_size - 1
        left = total if self.padding == "causal" else total // 2
        mode = "circular" if self.padding == "circular" else "constant"
        x = nn.functional.pad(x, (left, total - left), mode=mode)
        return self.tokenConv(x).transpose(1, 2)


class FixedEmbedding(nn.Module):
    def __init__(self, c_in, d_model):
        super().__init__()
        self.emb = nn.Embedding(c_in, d_model)
        self.emb.weight = nn.Parameter(sinusoid(c_in, d_model), requires_grad=False)

    def forward(self, x):
        return self.emb(x).detach()


class TemporalEmbedding(nn.Module):
    def __init__(self, d_model, embed_type="fixed", freq="h"):
        super().__init__()
        embed = FixedEmbedding if embed_type == "fixed" else nn.Embedding
        if freq == "t":
            self.minute_embed = embed(4, d_model)
        self.hour_embed = embed(24, d_model)
        self.weekday_embed = embed(7, d_model)
        self.day_embed = embed(32, d_model)
        self.month_embed = embed(13, d_model)

    def forward(self, x):
        x = x.long()
        minute = self.minute_embed(x[:, :, 4]) if hasattr(self, "minute_embed") else 0.0
        return (
            self.hour_embed(x[:, :, 3])
            + self.weekday_embed(x[:, :, 2])
            + self.day_embed(x[:, :, 1])
            + self.month_embed(x[:, :, 0])
            + minute
        )


FREQ_WIDTH = {"h": 4, "t": 5, "s": 6, "m": 1, "a": 1, "w": 2, "d": 3, "b": 3}


class TimeFeatureEmbedding(nn.Module):
    def __init__(self, d_model, freq="h"):
        super().__init__()
        self.embed = nn.Linear(FREQ_WIDTH[freq], d_model, bias=False)

    def forward(self, x):
        return self.embed(x)


class DataEmbedding(nn.Module):
    def __init__(self, c_in, d_model, embed_type="fixed", freq="h", dropout=0.1, position=True, **token_kwargs):
        super().__init__()
        self.value_embedding = TokenEmbedding(c_in, d_model, **token_kwargs)
        self.position_embedding = PositionalEmbedding(d_model)
        self.use_position = position
        if embed_type == "timeF":
            self.temporal_embedding = TimeFeatureEmbedding(d_model, freq)
        else:
            self.temporal_embedding = TemporalEmbedding(d_model, embed_type, freq)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, x_mark=None):
        out = self.value_embedding(x)
        if self.use_position:
            out = out + self.position_embedding(x)
        if x_mark is not None:
            out = out + self.temporal_embedding(x_mark)
        return self.dropout(out)


class DataEmbeddingWithoutPosition(DataEmbedding):
    def __init__(self, c_in, d_model, embed_type="fixed", freq="h", dropout=0.1, **token_kwargs):
        super().__init__(c_in, d_model, embed_type, freq, dropout, position=False, **token_kwargs)


class DataEmbeddingInverted(nn.Module):
    def __init__(self, seq_len, d_model, dropout=0.1):
        super().__init__()
        self.value_embedding = nn.Linear(seq_len, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, x_mark=None):
        x = x.permute(0, 2, 1)
        if x_mark is not None:
            x = torch.cat([x, x_mark.permute(0, 2, 1)], 1)
        return self.dropout(self.value_embedding(x))


class PatchEmbedding(nn.Module):
    """Returns `(batch * variates, patches, d_model)` and `n_vars`, as the reference does."""

    def __init__(self, d_model, patch_len=16, stride=8, padding=8, dropout=0.1):
        super().__init__()
        self.patch_len, self.stride = patch_len, stride
        self.padding_patch_layer = nn.ReplicationPad1d((0, padding))
        self.value_embedding = nn.Linear(patch_len, d_model, bias=False)
        self.position_embedding = PositionalEmbedding(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):  # x: (batch, variates, time), the reference layout
        n_vars = x.shape[1]
        x = self.padding_patch_layer(x)
        x = x.unfold(dimension=-1, size=self.patch_len, step=self.stride)
        x = torch.reshape(x, (x.shape[0] * x.shape[1], x.shape[2], x.shape[3]))
        x = self.value_embedding(x) + self.position_embedding(x)
        return self.dropout(x), n_vars


class RevIN(nn.Module):
    """RevIN (Kim et al., ICLR 2022) as Time-Series-Library's `Normalize`."""

    def __init__(self, num_features, eps=1e-5, affine=True):
        super().__init__()
        self.eps, self.affine = eps, affine
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(num_features))
            self.affine_bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x, mode):
        if mode == "norm":
            self.mean = torch.mean(x, dim=1, keepdim=True).detach()
            self.stdev = torch.sqrt(torch.var(x, dim=1, keepdim=True, unbiased=False) + self.eps).detach()
            x = (x - self.mean) / self.stdev
            if self.affine:
                x = x * self.affine_weight + self.affine_bias
            return x
        if self.affine:
            x = (x - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
        return x * self.stdev + self.mean
