"""PyTorch interop: reference state dicts load with exact parity, and export back.

Every layer and option is a `Pair` of a kerasfactory layer and the reference
module of `tests/reference_torch.py`; the same checks run over all pairs.
"""

import ast
import dataclasses
import pathlib
import pickle
from typing import Callable

import keras
import numpy as np
import pytest
import torch

from kerasfactory import layers
from kerasfactory.interop import load_torch_file, load_torch_state_dict, to_torch_state_dict
from tests import reference_torch as ref
from tests.harness import to_numpy

ATOL = 1e-5


@dataclasses.dataclass
class Pair:
    id: str
    make_keras: Callable
    make_torch: Callable
    inputs: Callable  # rng -> tuple of numpy arrays
    keras_call: Callable = lambda layer, *a: layer(*a, training=False)
    torch_call: Callable = lambda module, *a: module(*(torch.from_numpy(x) for x in a))


def normal(*shape):
    return lambda rng: (rng.standard_normal(shape).astype("float32"),)


def marks(batch=2, time=10, minute=True):
    def make(rng):
        columns = [
            rng.integers(1, 13, (batch, time)),  # month
            rng.integers(1, 32, (batch, time)),  # day
            rng.integers(0, 7, (batch, time)),  # weekday
            rng.integers(0, 24, (batch, time)),  # hour
            rng.integers(0, 4, (batch, time)),  # minute // 15
        ]
        return (np.stack(columns[: 5 if minute else 4], axis=-1).astype("int32"),)

    return make


def token_pair(padding, kernel_size, bias):
    return Pair(
        f"token_{padding}_k{kernel_size}_{'bias' if bias else 'nobias'}",
        lambda: layers.TokenEmbedding(7, 8, kernel_size, padding=padding, use_bias=bias),
        lambda: ref.TokenEmbedding(7, 8, kernel_size, padding=padding, bias=bias),
        normal(2, 12, 7),
    )


def revin_norm_denorm_keras(layer, x):
    y, stats = layer(x, return_stats=True)
    return keras.ops.concatenate([y, layer(y * 2.0 + 1.0, mode="denorm", stats=stats)], axis=1)


def revin_norm_denorm_torch(module, x):
    y = module(torch.from_numpy(x), "norm")
    return torch.cat([y, module(y * 2.0 + 1.0, "denorm")], dim=1)


REFERENCE_TOKEN = {"padding": "circular", "use_bias": False}


def data_pair(embed_type, freq, position=True, token=REFERENCE_TOKEN):
    keras_cls = layers.DataEmbedding if position else layers.DataEmbeddingWithoutPosition
    torch_cls = ref.DataEmbedding if position else ref.DataEmbeddingWithoutPosition
    torch_token = {"padding": token["padding"], "bias": token["use_bias"], "kernel_size": token.get("kernel_size", 3)}

    def inputs(rng):
        x = rng.standard_normal((2, 12, 7)).astype("float32")
        if embed_type == "timeF":
            return x, rng.uniform(-0.5, 0.5, (2, 12, ref.FREQ_WIDTH[freq])).astype("float32")
        return x, marks(time=12, minute=freq == "t")(rng)[0]

    return Pair(
        f"{'data' if position else 'data_wo_pos'}_{embed_type}_{freq}"
        + ("" if token is REFERENCE_TOKEN else f"_{token['padding']}_bias{token['use_bias']}"),
        lambda: keras_cls(7, 8, embed_type=embed_type, freq=freq, **token),
        lambda: torch_cls(7, 8, embed_type, freq, **torch_token),
        inputs,
    )


def patch_pair(patch_len, stride, padding):
    def torch_call(module, x):
        out, n_vars = module(torch.from_numpy(x).permute(0, 2, 1))
        return out.reshape(x.shape[0], n_vars, *out.shape[1:])

    return Pair(
        f"patch_{patch_len}_{stride}_{padding}",
        lambda: layers.PatchEmbedding(8, patch_len, stride, padding=padding),
        lambda: ref.PatchEmbedding(8, patch_len, stride, padding=stride if padding == "end" else 0),
        normal(2, 12, 7),
        torch_call=torch_call,
    )


PAIRS = [
    # Composites nest the tables tested below: each embed type once, each freq family once.
    data_pair("fixed", "h"),
    data_pair("learned", "t"),
    data_pair("timeF", "t"),
    data_pair("fixed", "t", position=False),
    data_pair("learned", "h", position=False),
    data_pair("timeF", "d", position=False, token={"padding": "same", "use_bias": True, "kernel_size": 4}),
    patch_pair(4, 2, "end"),
    patch_pair(4, 4, "none"),
    *(token_pair(p, k, b) for p in ("same", "circular", "causal") for k, b in ((3, False), (4, True))),
    Pair(
        "positional",
        lambda: layers.PositionalEmbedding(32, d_model=8),
        lambda: ref.PositionalEmbedding(8, max_len=32),
        normal(2, 12, 8),
    ),
    Pair(
        "fixed",
        lambda: layers.FixedEmbedding(24, 8),
        lambda: ref.FixedEmbedding(24, 8),
        lambda rng: (rng.integers(0, 24, (2, 12)).astype("int32"),),
        torch_call=lambda module, x: module(torch.from_numpy(x).long()),
    ),
    *(
        Pair(
            f"temporal_{embed_type}_{freq}",
            lambda e=embed_type, f=freq: layers.TemporalEmbedding(8, embed_type=e, freq=f),
            lambda e=embed_type, f=ref_freq: ref.TemporalEmbedding(8, embed_type=e, freq=f),
            marks(),
        )
        for embed_type, freq, ref_freq in (
            ("fixed", "h", "h"),
            ("fixed", "t", "t"),
            ("learned", "h", "h"),
            ("learned", "t", "t"),
            ("learned", "15min", "t"),  # a pandas alias maps to the reference's code
        )
    ),
    *(
        Pair(
            f"time_feature_{freq}",
            lambda f=freq: layers.TimeFeatureEmbedding(8, freq=f),
            lambda f=freq: ref.TimeFeatureEmbedding(8, freq=f),
            normal(2, 12, width),
        )
        for freq, width in ref.FREQ_WIDTH.items()
        if freq not in ("b", "a")  # the same widths as "d" and "m"
    ),
    Pair(
        "inverted",
        lambda: layers.DataEmbeddingInverted(12, 8),
        lambda: ref.DataEmbeddingInverted(12, 8),
        lambda rng: (
            rng.standard_normal((2, 12, 7)).astype("float32"),
            rng.standard_normal((2, 12, 4)).astype("float32"),
        ),
    ),
    *(
        Pair(
            f"revin_{'affine' if affine else 'plain'}",
            lambda a=affine: layers.ReversibleInstanceNorm(7, affine=a),
            lambda a=affine: ref.RevIN(7, affine=a),
            normal(2, 12, 7),
            keras_call=revin_norm_denorm_keras,
            torch_call=revin_norm_denorm_torch,
        )
        for affine in (True, False)
    ),
]

pairs = pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)


def randomize_torch(module, seed=0):
    """Random values in every trainable parameter; frozen tables and buffers kept."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.requires_grad:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return module.eval()


def randomize_keras(layer, seed=0):
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        weight.assign(rng.standard_normal(weight.shape).astype("float32"))
    return layer


def built(layer, pair):
    pair.keras_call(layer, *pair.inputs(np.random.default_rng(0)))
    return layer


def outputs(pair, keras_layer, torch_module, seed=1):
    arrays = pair.inputs(np.random.default_rng(seed))
    got = to_numpy(pair.keras_call(keras_layer, *arrays))
    with torch.no_grad():
        want = pair.torch_call(torch_module, *arrays).numpy()
    return got, want


def as_numpy(state_dict):
    return {key: value.detach().numpy().copy() for key, value in state_dict.items()}


def as_torch(state_dict):
    return {key: torch.from_numpy(np.asarray(value)) for key, value in state_dict.items()}


@pairs
def test_keras_output_matches_torch_after_loading_its_state_dict(pair):
    module = randomize_torch(pair.make_torch())
    layer = pair.make_keras()
    result = load_torch_state_dict(layer, module.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    got, want = outputs(pair, layer, module)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)


@pairs
def test_exported_state_dict_loads_strictly_into_torch_and_reproduces_keras(pair):
    layer = randomize_keras(built(pair.make_keras(), pair), seed=2)
    state_dict = to_torch_state_dict(layer)
    assert all(isinstance(v, np.ndarray) for v in state_dict.values())
    module = pair.make_torch().eval()
    module.load_state_dict(as_torch(state_dict), strict=True)
    got, want = outputs(pair, layer, module)
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)


@pairs
def test_export_keys_and_shapes_are_the_reference_state_dict(pair):
    expected = {k: tuple(v.shape) for k, v in pair.make_torch().state_dict().items()}
    exported = to_torch_state_dict(pair.make_keras())  # unbuilt: built from its config
    assert {k: v.shape for k, v in exported.items()} == expected


def test_reference_position_table_of_a_real_size_loads_with_parity_at_short_lengths():
    # The reference's float32 `pe` differs from ours by ~2.4e-4 near position
    # 5000 (within FIXED_ATOL); the first 96 positions agree within 1e-5.
    module = ref.PositionalEmbedding(64)
    layer = layers.PositionalEmbedding(5000, d_model=64)
    load_torch_state_dict(layer, module.state_dict())
    x = np.zeros((1, 96, 64), "float32")
    np.testing.assert_allclose(
        to_numpy(layer(x)), module(torch.from_numpy(x)).numpy(), atol=ATOL, rtol=0
    )


def test_reference_token_embedding_is_circular_without_bias():
    module = randomize_torch(ref.TokenEmbedding(7, 8))
    layer = layers.TokenEmbedding(7, 8, padding="circular", use_bias=False)
    load_torch_state_dict(layer, module.state_dict())
    pair = token_pair("circular", 3, False)
    np.testing.assert_allclose(*outputs(pair, layer, module), atol=ATOL, rtol=0)


def test_numpy_state_dict_loads_like_tensors():
    module = randomize_torch(ref.TokenEmbedding(7, 8, padding="same", bias=True))
    from_tensors = layers.TokenEmbedding(7, 8, use_bias=True)
    from_arrays = layers.TokenEmbedding(7, 8, use_bias=True)
    load_torch_state_dict(from_tensors, module.state_dict())
    load_torch_state_dict(from_arrays, as_numpy(module.state_dict()))
    for a, b in zip(from_tensors.get_weights(), from_arrays.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unbuilt_layer_is_built_by_loading():
    module = randomize_torch(ref.TokenEmbedding(7, 8))
    layer = layers.TokenEmbedding(7, 8, padding="circular", use_bias=False)
    assert not layer.built
    load_torch_state_dict(layer, module.state_dict())
    assert layer.built
    np.testing.assert_array_equal(
        to_numpy(layer.conv.kernel), module.tokenConv.weight.detach().numpy().transpose(2, 1, 0)
    )


class WholeModel(torch.nn.Module):
    """A forecaster-shaped module: embeddings under `enc_embedding.` among other weights."""

    def __init__(self):
        super().__init__()
        self.enc_embedding = ref.DataEmbedding(7, 8, "timeF", "h")
        self.dec_embedding = ref.DataEmbedding(7, 8, "timeF", "h")
        self.projection = torch.nn.Linear(8, 7)


@pytest.mark.parametrize("prefix", ["enc_embedding.", "enc_embedding"])
def test_whole_model_state_dict_loads_under_a_prefix(prefix):
    model = randomize_torch(WholeModel())
    layer = layers.DataEmbedding(7, 8, embed_type="timeF", freq="h", **REFERENCE_TOKEN)
    result = load_torch_state_dict(layer, model.state_dict(), prefix=prefix)
    assert result.unexpected_keys == []
    pair = data_pair("timeF", "h")
    np.testing.assert_allclose(*outputs(pair, layer, model.enc_embedding), atol=ATOL, rtol=0)
    exported = to_torch_state_dict(layer, prefix=prefix)
    assert sorted(exported) == sorted(k for k in model.state_dict() if k.startswith("enc_embedding."))


def strict_error(layer, state_dict, **kwargs):
    with pytest.raises(ValueError) as info:
        load_torch_state_dict(layer, state_dict, **kwargs)
    return str(info.value)


def token_state(bias=True, kernel_size=3):
    return as_numpy(randomize_torch(ref.TokenEmbedding(7, 8, kernel_size, bias=bias)).state_dict())


def test_missing_key_is_an_error_naming_key_and_expected_shape():
    message = strict_error(layers.TokenEmbedding(7, 8, use_bias=True), token_state(bias=False))
    assert "missing key 'tokenConv.bias': expected shape (8,)" in message


def test_unexpected_key_is_an_error_naming_key_and_received_shape():
    state = {**token_state(bias=False), "tokenConv.scale": np.ones((8, 2), "float32")}
    message = strict_error(layers.TokenEmbedding(7, 8, use_bias=False), state)
    assert "unexpected key 'tokenConv.scale': received shape (8, 2)" in message


def test_shape_mismatch_is_an_error_naming_both_shapes():
    message = strict_error(layers.TokenEmbedding(7, 8, use_bias=False), token_state(False, 5))
    assert (
        "shape mismatch for 'tokenConv.weight': expected shape (8, 7, 3), "
        "received shape (8, 7, 5)" in message
    )


def test_every_problem_is_listed_with_full_keys_under_a_prefix():
    state = {
        "enc_embedding.tokenConv.weight": np.zeros((8, 7, 5), "float32"),
        "enc_embedding.extra": np.zeros(3, "float32"),
        "projection.weight": np.zeros((2, 2), "float32"),  # not under the prefix: ignored
    }
    message = strict_error(layers.TokenEmbedding(7, 8), state, prefix="enc_embedding.")
    assert "3 problem(s)" in message
    assert "missing key 'enc_embedding.tokenConv.bias'" in message
    assert "unexpected key 'enc_embedding.extra'" in message
    assert "shape mismatch for 'enc_embedding.tokenConv.weight'" in message
    assert "projection" not in message


def test_fixed_table_that_differs_from_ours_is_an_error():
    state = as_numpy(ref.TemporalEmbedding(8, "fixed", "h").state_dict())
    state["hour_embed.emb.weight"] = state["hour_embed.emb.weight"] + 0.5
    message = strict_error(layers.TemporalEmbedding(8, "fixed", "h"), state)
    assert "value mismatch for 'hour_embed.emb.weight'" in message


def test_failed_load_leaves_a_built_layer_unchanged():
    layer = built(layers.TokenEmbedding(7, 8, use_bias=True), token_pair("same", 3, True))
    before = [w.copy() for w in layer.get_weights()]
    good_weight = token_state(bias=True)["tokenConv.weight"]
    strict_error(layer, {"tokenConv.weight": good_weight, "tokenConv.bias": np.zeros(9, "float32")})
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_failed_load_leaves_an_unbuilt_layer_unbuilt():
    layer = layers.TokenEmbedding(7, 8, use_bias=False)
    strict_error(layer, token_state(bias=False, kernel_size=5))
    assert not layer.built


def test_non_strict_load_skips_missing_and_unexpected_keys_only():
    layer = built(layers.TokenEmbedding(7, 8, use_bias=True), token_pair("same", 3, True))
    bias_before = to_numpy(layer.conv.bias).copy()
    state = {**token_state(bias=False), "other": np.zeros(2, "float32")}
    result = load_torch_state_dict(layer, state, strict=False)
    assert result.missing_keys == ["tokenConv.bias"] and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(to_numpy(layer.conv.bias), bias_before)
    np.testing.assert_array_equal(
        to_numpy(layer.conv.kernel), state["tokenConv.weight"].transpose(2, 1, 0)
    )
    message = strict_error(layer, token_state(True, 5), strict=False)
    assert "shape mismatch for 'tokenConv.weight'" in message


def test_layer_without_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="`layer` must be a layer with a PyTorch table"):
        load_torch_state_dict(keras.layers.LayerNormalization(), {})


def test_state_dict_must_be_a_mapping():
    with pytest.raises(TypeError, match="`state_dict` must be a mapping"):
        load_torch_state_dict(layers.TokenEmbedding(7, 8), [("tokenConv.weight", 1)])


def test_bfloat16_tensors_load():
    module = randomize_torch(ref.TokenEmbedding(7, 8)).to(torch.bfloat16)
    layer = layers.TokenEmbedding(7, 8, padding="circular", use_bias=False)
    load_torch_state_dict(layer, module.state_dict())
    np.testing.assert_array_equal(
        to_numpy(layer.conv.kernel),
        module.tokenConv.weight.float().detach().numpy().transpose(2, 1, 0),
    )


def test_mixed_precision_layer_loads_and_exports_float32():
    module = randomize_torch(ref.TokenEmbedding(7, 8))
    layer = layers.TokenEmbedding(7, 8, padding="circular", use_bias=False, dtype="mixed_bfloat16")
    load_torch_state_dict(layer, module.state_dict())
    exported = to_torch_state_dict(layer)["tokenConv.weight"]
    assert exported.dtype == np.float32
    np.testing.assert_array_equal(exported, module.tokenConv.weight.detach().numpy())


def test_interop_module_does_not_import_torch_at_import_time():
    import kerasfactory.interop.torch as interop

    tree = ast.parse(pathlib.Path(interop.__file__).read_text())
    imported = set()
    for node in tree.body:  # top-level statements only: `load_torch_file` imports lazily
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert "torch" not in imported


def test_torch_file_loads_with_weights_only(tmp_path):
    module = randomize_torch(ref.TokenEmbedding(7, 8))
    path = tmp_path / "checkpoint.pth"
    torch.save(module.state_dict(), path)
    layer = layers.TokenEmbedding(7, 8, padding="circular", use_bias=False)
    load_torch_file(layer, path)
    pair = token_pair("circular", 3, False)
    np.testing.assert_allclose(*outputs(pair, layer, module), atol=ATOL, rtol=0)


class Payload:
    """Unpickling this would run code; `weights_only=True` must refuse it."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_torch_file_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"tokenConv.weight": Payload()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_torch_file(layers.TokenEmbedding(7, 8), path)
