"""Time-Series-Library module parameters -> Keras variables, for the modules its models share.

A table maps the keys of a module's state dict to entries: `Param` (a
tensor that goes into a Keras variable, or into one row of it), `Ignored` (a
tensor the reference saves but never reads in its forecast, e.g. BatchNorm's
`num_batches_tracked`; its shape is checked, nothing is loaded) and
`kerasfactory.interop.torch._Fixed` (a sinusoid table we compute).

    nn.Linear(i, o)             weight (o, i), bias (o,)      Dense kernel (i, o), bias
    nn.Conv1d(i, o, 1)          weight (o, i, 1), bias (o,)   Dense kernel (i, o), bias
    nn.LayerNorm(d)             weight, bias (d,)             LayerNormalization gamma, beta
    nn.BatchNorm1d(d)           weight, bias, running_mean,   BatchNormalization gamma, beta,
                                running_var (d,)              moving_mean, moving_variance
    AttentionLayer              {query,key,value}_projection  MultiHeadAttention {query,key,value}_dense
                                .weight (H E, d), .bias (H E) kernel (d, H, E), bias (H, E);
                                out_projection.weight (d, H E) output_dense kernel (H, E, d)
"""

import dataclasses
from typing import Callable

import numpy as np

from kerasfactory.interop import torch as layer_tables


@dataclasses.dataclass
class Param:
    """A torch tensor of `shape` held by Keras `variable` (all of it, or row `index`), via `to_keras`."""

    variable: object
    shape: tuple
    to_keras: Callable = np.asarray
    index: int = None

    def torch_shape(self):
        return tuple(self.shape)


@dataclasses.dataclass
class Ignored:
    """A tensor of `shape` that the reference saves and its forecast never reads."""

    shape: tuple

    def torch_shape(self):
        return tuple(self.shape)


def nest(prefix, table):
    """`table` with every key under `prefix.`."""
    return {f"{prefix}.{key}": entry for key, entry in table.items()}


def linear(dense, index=None):
    """`nn.Linear` -> `Dense` (or row `index` of an `EinsumDense` kernel `(rows, in, out)`, bias `(rows, out)`)."""
    kernel_shape = tuple(dense.kernel.shape)[-2:]
    table = {"weight": Param(dense.kernel, kernel_shape[::-1], np.transpose, index)}
    if dense.bias is not None:
        table["bias"] = Param(dense.bias, kernel_shape[-1:], np.asarray, index)
    return table


def conv1x1(dense):
    """`nn.Conv1d(kernel_size=1)` (the reference's feed-forward) -> `Dense`."""
    n_in, n_out = dense.kernel.shape
    return {
        "weight": Param(dense.kernel, (n_out, n_in, 1), lambda w: w[:, :, 0].T),
        "bias": Param(dense.bias, (n_out,)),
    }


def layer_norm(layer):
    return {"weight": Param(layer.gamma, layer.gamma.shape), "bias": Param(layer.beta, layer.beta.shape)}


def batch_norm(layer):
    size = tuple(layer.gamma.shape)
    return {
        "weight": Param(layer.gamma, size), "bias": Param(layer.beta, size),
        "running_mean": Param(layer.moving_mean, size), "running_var": Param(layer.moving_variance, size),
        "num_batches_tracked": Ignored(()),  # counts training steps; inference reads the running statistics
    }


def attention(mha):
    """The reference's `AttentionLayer` (`FullAttention` inside has no parameters) -> `MultiHeadAttention`."""
    table = {}
    for role in ("query", "key", "value"):
        dense = getattr(mha, f"{role}_dense")
        d_model, heads, size = dense.kernel.shape
        table[f"{role}_projection.weight"] = Param(
            dense.kernel, (heads * size, d_model), lambda w, s=(d_model, heads, size): w.T.reshape(s)
        )
        table[f"{role}_projection.bias"] = Param(dense.bias, (heads * size,), lambda b, s=(heads, size): b.reshape(s))
    heads, size, d_model = mha.output_dense.kernel.shape
    table["out_projection.weight"] = Param(
        mha.output_dense.kernel, (d_model, heads * size), lambda w, s=(heads, size, d_model): w.T.reshape(s)
    )
    table["out_projection.bias"] = Param(mha.output_dense.bias, (d_model,))
    return table


def encoder_layer(model, name):
    """The reference's `EncoderLayer` -> the block `name` of `kerasfactory.models.encoder`."""
    return {
        **nest("attention", attention(model.get_layer(f"{name}_attention"))),
        **nest("conv1", conv1x1(model.get_layer(f"{name}_ff1"))),
        **nest("conv2", conv1x1(model.get_layer(f"{name}_ff2"))),
        **nest("norm1", layer_norm(model.get_layer(f"{name}_norm1"))),
        **nest("norm2", layer_norm(model.get_layer(f"{name}_norm2"))),
    }


def encoder(model, n_layers, norm=layer_norm, name="encoder"):
    """The reference's `Encoder` of `n_layers` blocks and a final norm -> `encoder_blocks`' layers."""
    table = {}
    for i in range(n_layers):
        table.update(nest(f"attn_layers.{i}", encoder_layer(model, f"{name}_{i}")))
    return {**table, **nest("norm", norm(model.get_layer(f"{name}_norm")))}


def decoder(model, n_layers, name="decoder"):
    """The reference's `Decoder` (its projection apart) -> `decoder_blocks`' layers."""
    table = {}
    for i in range(n_layers):
        block = f"{name}_{i}"
        table.update(nest(f"layers.{i}", {
            **nest("self_attention", attention(model.get_layer(f"{block}_self_attention"))),
            **nest("cross_attention", attention(model.get_layer(f"{block}_attention"))),
            **nest("conv1", conv1x1(model.get_layer(f"{block}_ff1"))),
            **nest("conv2", conv1x1(model.get_layer(f"{block}_ff2"))),
            **nest("norm1", layer_norm(model.get_layer(f"{block}_self_norm"))),
            **nest("norm2", layer_norm(model.get_layer(f"{block}_norm1"))),
            **nest("norm3", layer_norm(model.get_layer(f"{block}_norm2"))),
        }))
    return {**table, **nest("norm", layer_norm(model.get_layer(f"{name}_norm")))}


def kerasfactory_layer(layer):
    """A kerasfactory layer's table from `kerasfactory.interop.torch` (embeddings, RevIN), as `Param`s."""
    table = {}
    for key, entry in layer_tables._entries(layer).items():
        if isinstance(entry, layer_tables._Weight):
            table[key] = Param(entry.variable, entry.torch_shape(), entry.to_keras)
        else:
            table[key] = entry
    return table
