"""`kerasfactory.interop.from_tslib`: Time-Series-Library checkpoints predict the same in Keras.

Each case trains the PyTorch reference (`tests/reference_tslib.py`,
`tests/reference_timemixer.py`, TSLib's semantics and state-dict names) a few
Adam steps from random weights, imports its state dict and compares the
predictions in eval mode, whole batches of samples with marks of their own.
"""

import ast
import pathlib
import pickle

import keras
import numpy as np
import pytest
import torch

from kerasfactory.interop import from_tslib, tslib
from tests import reference_timemixer, reference_tslib

ATOL = 1e-4
SMALL = dict(seq_len=32, pred_len=8, enc_in=3, dec_in=3, c_out=3, d_model=16, n_heads=2, d_ff=32, e_layers=2)
CASES = {
    "iTransformer": ("iTransformer", SMALL),
    "iTransformer-relu": ("iTransformer", {**SMALL, "activation": "relu", "e_layers": 1}),
    "PatchTST": ("PatchTST", {**SMALL, "patch_len": 8, "stride": 4}),
    "DLinear": ("DLinear", {**SMALL, "moving_avg": 5}),
    "DLinear-individual": ("DLinear", {**SMALL, "moving_avg": 5, "individual": True}),
    "TimeMixer": ("TimeMixer", {**SMALL, "d_model": 8, "d_ff": 16, "down_sampling_layers": 2,
                                "down_sampling_window": 2, "down_sampling_method": "avg", "moving_avg": 5}),
    "TimeMixer-max-no-norm": ("TimeMixer", {**SMALL, "d_model": 8, "d_ff": 16, "e_layers": 1, "use_norm": 0,
                                            "down_sampling_layers": 1, "down_sampling_window": 2,
                                            "down_sampling_method": "max", "moving_avg": 5}),
    "Transformer": ("Transformer", {**SMALL, "label_len": 16, "d_layers": 2}),
    "Transformer-fixed": ("Transformer", {**SMALL, "label_len": 8, "e_layers": 1, "embed": "fixed", "c_out": 2}),
}


def reference(name, args):
    """The TSLib PyTorch module for `args` (TSLib's names), randomly initialised from seed 0."""
    torch.manual_seed(0)
    if name == "TimeMixer":
        return reference_timemixer.TimeMixer(reference_timemixer.configs(**args))
    constructor = {k: args[k] for k in ("patch_len", "stride", "individual") if k in args}
    configs = reference_tslib.configs(**{k: v for k, v in args.items() if k not in constructor})
    return reference_tslib.MODELS[name](configs, **constructor)


def inputs(args, batch=4, seed=0):
    """TSLib's four inputs: `x_dec` is the last `label_len` values then zeros, as its experiments build it."""
    rng = np.random.default_rng(seed)
    seq, label, pred = args["seq_len"], args.get("label_len", 48), args["pred_len"]
    x_enc = (rng.normal(size=(batch, seq, args["enc_in"])) * 2 + 1).astype("float32")
    if args.get("embed", "timeF") == "timeF":
        marks = rng.uniform(-0.5, 0.5, size=(batch, seq + pred, 4)).astype("float32")
    else:
        high = np.array([13, 32, 7, 24])
        marks = (rng.integers(0, 1 << 30, size=(batch, seq + pred, 4)) % high).astype("float32")
    x_dec = np.concatenate([x_enc[:, seq - label:], np.zeros((batch, pred, args["enc_in"]), "float32")], axis=1)
    return [x_enc, marks[:, :seq], x_dec, marks[:, seq - label:]]


def train(module, args, steps=3):
    """A few Adam steps on random data in train mode (dropout on, BatchNorm statistics updated), then eval."""
    optimiser = torch.optim.Adam(module.parameters(), lr=1e-2)
    for step in range(steps):
        batch = [torch.from_numpy(a) for a in inputs(args, batch=8, seed=100 + step)]
        target = torch.randn(8, args["pred_len"], args["c_out"] if "c_out" in args else args["enc_in"])
        optimiser.zero_grad()
        torch.nn.functional.mse_loss(module(*batch), target).backward()
        optimiser.step()
    return module.eval()


def torch_predict(module, arrays):
    """TSLib's `forward(x_enc, x_mark_enc, x_dec, x_mark_dec)` on the whole batch at once."""
    with torch.no_grad():
        return module(*(torch.from_numpy(a) for a in arrays)).numpy()


def imported(case):
    name, args = CASES[case]
    module = train(reference(name, args), args)
    return module, from_tslib(name, module.state_dict(), **args)


# Each architecture's returned model also goes through a `.keras` file.
ROUND_TRIP = ("iTransformer", "PatchTST", "DLinear-individual", "TimeMixer", "Transformer")


@pytest.mark.parametrize("case", CASES)
def test_imported_model_predicts_as_the_trained_tslib_model(case, tmp_path):
    name, args = CASES[case]
    module, model = imported(case)
    arrays = inputs(args, seed=1)
    assert np.abs(np.diff(arrays[1], axis=0)).max(axis=(1, 2)).min() > 0  # each sample has marks of its own
    expected = torch_predict(module, arrays)
    got = model.predict(arrays, verbose=0)
    assert got.shape == expected.shape == (4, args["pred_len"], args["c_out"])
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)
    if case in ROUND_TRIP:
        model.save(tmp_path / "model.keras")
        loaded = keras.saving.load_model(tmp_path / "model.keras")
        assert [t.name for t in loaded.inputs] == ["x_enc", "x_mark_enc", "x_dec", "x_mark_dec"]
        np.testing.assert_allclose(loaded.predict(arrays, verbose=0), got, atol=1e-6, rtol=0)


def test_imported_timemixer_copies_tslibs_batch_dependent_mark_order():
    """TSLib's TimeMixer tiles the marks with `x_mark.repeat(N, 1, 1)` against sample-major series rows: variate
    `n` of sample `b` reads sample `(b * N + n) % batch`'s marks, so a batch predicts unlike its samples alone.
    The import copies that (`build_timemixer(mark_order="tslib")`), at any batch size, eager and compiled."""
    module, model = imported("TimeMixer")
    args = CASES["TimeMixer"][1]
    assert model.get_layer("timemixer").get_layer("enc_embedding").mark_order == "tslib"
    for batch in (3, 5):
        arrays = inputs(args, batch=batch, seed=2)
        expected = torch_predict(module, arrays)
        alone = np.concatenate([torch_predict(module, [a[b: b + 1] for a in arrays]) for b in range(batch)])
        assert np.abs(expected - alone).max() > 1e-3  # in TSLib, a sample's forecast depends on its batch
        eager = keras.ops.convert_to_numpy(model(arrays, training=False))
        np.testing.assert_allclose(eager, expected, atol=ATOL, rtol=0)
        np.testing.assert_allclose(model.predict(arrays, verbose=0), expected, atol=ATOL, rtol=0)


def itransformer_state():
    return {k: v.clone() for k, v in reference("iTransformer", SMALL).state_dict().items()}


def test_missing_extra_and_misshapen_keys_are_one_error_listing_each():
    state = itransformer_state()
    del state["projection.bias"]
    state["projection.scale"] = torch.ones(3)
    state["encoder.norm.weight"] = torch.ones(17)
    with pytest.raises(ValueError) as error:
        from_tslib("iTransformer", state, **SMALL)
    message = str(error.value)
    assert "nothing was loaded (3 problem(s))" in message
    assert "missing key 'projection.bias': expected shape (8,)" in message
    assert "unexpected key 'projection.scale': received shape (3,)" in message
    assert "shape mismatch for 'encoder.norm.weight': expected shape (16,), received shape (17,)" in message


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape"])
def test_each_problem_alone_is_an_error(change):
    state = itransformer_state()
    if change == "missing":
        del state["encoder.attn_layers.1.conv2.weight"]
    elif change == "unexpected":
        state["decoder.norm.weight"] = torch.ones(16)
    else:
        state["enc_embedding.value_embedding.weight"] = torch.ones(16, 48)
    with pytest.raises(ValueError, match=f"1 problem.*\n  {change}"):
        from_tslib("iTransformer", state, **SMALL)


def test_non_strict_skips_missing_and_unexpected_keys_but_not_shapes():
    state = itransformer_state()
    del state["projection.bias"]
    state["projection.scale"] = torch.ones(3)
    assert from_tslib("iTransformer", state, strict=False, **SMALL).output.shape == (None, 8, 3)
    state["projection.weight"] = torch.ones(9, 16)
    with pytest.raises(ValueError, match="shape mismatch for 'projection.weight'"):
        from_tslib("iTransformer", state, strict=False, **SMALL)


def test_another_models_state_dict_is_named():
    state = reference("DLinear", {**SMALL, "moving_avg": 5}).state_dict()
    with pytest.raises(ValueError, match="of Time-Series-Library's iTransformer, got one of its DLinear "
                                         "\\(it holds 'Linear_Seasonal.weight'\\)"):
        from_tslib("iTransformer", state, **SMALL)
    with pytest.raises(ValueError, match="got none of its keys among 1 \\(such as 'weight'\\)"):
        from_tslib("PatchTST", {"weight": np.ones(3)}, **SMALL)


def test_checkpoint_file_loads_with_weights_only_and_data_parallel_prefix(tmp_path):
    module, model = imported("DLinear")
    path = tmp_path / "checkpoint.pth"
    torch.save({f"module.{k}": v for k, v in module.state_dict().items()}, path)
    from_file = from_tslib("DLinear", path, **CASES["DLinear"][1])
    arrays = inputs(CASES["DLinear"][1], seed=3)
    np.testing.assert_allclose(from_file.predict(arrays, verbose=0), model.predict(arrays, verbose=0), atol=1e-6)
    torch.save({"Linear_Seasonal.weight": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(pickle.UnpicklingError):
        from_tslib("DLinear", tmp_path / "evil.pth", **CASES["DLinear"][1])


class Payload:
    """Unpickling this would run code; `weights_only=True` must refuse it."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_unknown_model_name_and_argument_name():
    with pytest.raises(ValueError, match="`name` must be one of 'iTransformer', 'PatchTST', 'DLinear', "
                                         "'TimeMixer', 'Transformer', got 'Informer'"):
        from_tslib("Informer", {})
    with pytest.raises(TypeError, match="`args` of Time-Series-Library's DLinear must be among .*individual.*, "
                                        "got 'patch_len'"):
        from_tslib("DLinear", {}, patch_len=16)


@pytest.mark.parametrize("args, message", [
    ({}, "`down_sampling_method` must be 'avg' or 'max' for TimeMixer, got None"),
    ({"down_sampling_method": "avg", "down_sampling_layers": 1, "embed": "fixed"}, "`embed` must be 'timeF'"),
    ({"down_sampling_method": "avg", "down_sampling_layers": 1, "c_out": 1}, "`c_out` must equal `enc_in`=7"),
    ({"down_sampling_method": "conv", "down_sampling_layers": 1}, "'conv' is not supported"),
])
def test_timemixer_arguments_it_cannot_import_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        from_tslib("TimeMixer", {}, **args)


def test_bad_argument_values_name_the_argument():
    with pytest.raises(ValueError, match="`e_layers` must be a positive integer, got 0"):
        from_tslib("iTransformer", {}, e_layers=0)
    with pytest.raises(ValueError, match="`use_norm` must be 0 or 1, got 2"):
        from_tslib("TimeMixer", {}, use_norm=2)
    with pytest.raises(ValueError, match="`embed` must be one of"):
        from_tslib("Transformer", {}, embed="fourier")


def test_run_py_defaults_are_tslibs():
    assert {k: tslib.DEFAULTS[k] for k in ("seq_len", "label_len", "pred_len", "d_model", "d_ff", "n_heads")} == {
        "seq_len": 96, "label_len": 48, "pred_len": 96, "d_model": 512, "d_ff": 2048, "n_heads": 8
    }


def test_tslib_modules_do_not_import_torch_at_import_time():
    for module in ("tslib", "tslib_models", "tslib_tables"):
        path = pathlib.Path(tslib.__file__).with_name(f"{module}.py")
        imported = {alias.name.split(".")[0] for node in ast.parse(path.read_text()).body
                    if isinstance(node, ast.Import) for alias in node.names}
        assert "torch" not in imported, module
