"""The kerasfactory forecasters written in PyTorch: the yardstick of `forecasters.py`.

Each class is the architecture of the `kerasfactory.models` builder of the
same name, layer for layer and size for size (the test checks that the
parameter counts match), on the embedding modules of `tests/reference_torch.py`
(Time-Series-Library semantics). Constructors take the builders' sizes and
hyperparameter names; `forward(x, x_mark)` maps `(batch, seq_len, n_vars)`
and `(batch, seq_len, mark_dim)` timeF marks to `(batch, pred_len, n_vars)`.
Hourly data only (the benchmark's ETTh1).
"""

import sys

import torch
from torch import nn

import harness

if harness.ROOT not in sys.path:  # `tests` is a package of this repo's root
    sys.path.append(harness.ROOT)
from tests import reference_torch as ref  # noqa: E402

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class Encoder(nn.Module):
    """`models/encoder.py`: post-norm blocks `LN(h + Drop(MHA(h)))`, `LN(h + Drop(FF(h)))`, a final LN."""

    def __init__(self, d_model, n_heads, n_layers, d_ff, dropout, activation="gelu"):
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
        self.norm = nn.LayerNorm(d_model, eps=1e-5)

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
                 dropout=0.1, activation="gelu", residual=False):
        super().__init__()
        self.n_vars = n_vars
        self.revin = ref.RevIN(n_vars)
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
    """`models/patchtst.py`: RevIN, patches per variate, encoder over each variate's patches, flatten head."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                 dropout=0.1, activation="gelu", patch_len=16, stride=8, head_dropout=0.0):
        super().__init__()
        self.revin = ref.RevIN(n_vars)
        self.embedding = ref.PatchEmbedding(d_model, patch_len, stride, padding=stride, dropout=dropout)
        self.encoder = Encoder(d_model, n_heads, n_layers, d_ff, dropout, activation)
        patches = (seq_len + stride - patch_len) // stride + 1
        self.head_dropout = nn.Dropout(head_dropout)
        self.head = nn.Linear(patches * d_model, pred_len)

    def forward(self, x, x_mark):
        x = self.revin(x, "norm")
        h, n_vars = self.embedding(x.transpose(1, 2))  # (batch * n_vars, patches, d_model)
        h = self.encoder(h).reshape(x.shape[0], n_vars, -1)  # flattened patch by patch, as Keras' Reshape
        y = self.head(self.head_dropout(h))
        return self.revin(y.transpose(1, 2), "denorm")


class CycleLinear(nn.Module):
    """`models/linear.py`: the `(period, n_vars)` cycle table, a Linear over time on the de-cycled series."""

    def __init__(self, seq_len, pred_len, n_vars, mark_dim, period=None):
        super().__init__()
        self.seq_len, self.pred_len = seq_len, pred_len
        self.period = 24 if period is None else period  # steps per day at freq "h", as `cycle_period("h")`
        self.table = nn.Parameter(torch.zeros(self.period, n_vars))
        self.linear = nn.Linear(seq_len, pred_len)

    def forward(self, x, x_mark):
        hour = torch.round((x_mark[:, 0, 0] + 0.5) * 23)  # timeF hour of day of the first step
        phase = torch.round(hour * 3600 * (self.period / 86400.0)).long() % self.period
        steps = torch.arange(self.seq_len + self.pred_len, device=x.device)
        cycle = self.table[(phase[:, None] + steps) % self.period]  # (batch, seq_len + pred_len, n_vars)
        z = self.linear((x - cycle[:, : self.seq_len]).transpose(1, 2))
        return z.transpose(1, 2) + cycle[:, self.seq_len :]


MODELS = {"transformer": Transformer, "itransformer": ITransformer, "patchtst": PatchTST, "linear": CycleLinear}


def build(name, *, seq_len, pred_len, n_vars, mark_dim, **hparams):
    """The PyTorch forecaster `name` (a key of `MODELS`) with the Keras builder's hyperparameters."""
    return MODELS[name](seq_len, pred_len, n_vars, mark_dim, **hparams)


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
