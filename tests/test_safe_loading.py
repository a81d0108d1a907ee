"""Nothing in the package unpickles or runs code from a user's file.

A static scan of every module under `kerasfactory/` forbids the calls that
could (pickle and friends, eval/exec, `torch.load` without
`weights_only=True`, `np.load(allow_pickle=True)`, Keras loading with
`safe_mode=False`); behavioural checks show the two loaders users reach
(`kerasfactory.interop.load_torch_file` and `kerasfactory predict`) refuse a
file that carries code.
"""

import ast
import json
import pathlib

import keras
import numpy as np
import pytest

import kerasfactory

PACKAGE = pathlib.Path(kerasfactory.__file__).parent
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "joblib", "jsonpickle"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}


def _keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _is_constant(node, value):
    return isinstance(node, ast.Constant) and node.value is value


def unsafe_calls(source, filename="<source>"):
    """`(line, reason)` for each construct in `source` that could run code from a file."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in UNSAFE_MODULES:
                    found.append((node.lineno, f"imports {name}"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS:
            found.append((node.lineno, f"calls {func.id}()"))
        if not isinstance(func, ast.Attribute):
            continue
        owner = ast.unparse(func.value)
        if func.attr == "load" and owner == "torch" and not _is_constant(_keyword(node, "weights_only"), True):
            found.append((node.lineno, "torch.load without weights_only=True"))
        if func.attr == "load" and owner == "jit":
            found.append((node.lineno, "torch.jit.load runs code"))
        if func.attr == "load" and owner in ("np", "numpy") and not (
            _keyword(node, "allow_pickle") is None or _is_constant(_keyword(node, "allow_pickle"), False)
        ):
            found.append((node.lineno, "np.load with allow_pickle"))
        if func.attr in ("read_pickle", "enable_unsafe_deserialization"):
            found.append((node.lineno, f"calls {func.attr}"))
        safe_mode = _keyword(node, "safe_mode")
        if safe_mode is not None and not _is_constant(safe_mode, True):
            found.append((node.lineno, f"{func.attr}(safe_mode=...) other than True"))
    return found


def test_the_scan_catches_each_unsafe_construct():
    bad = """
import pickle
from joblib import load
eval("1")
exec("x = 1")
torch.load(path)
torch.load(path, weights_only=False)
np.load(path, allow_pickle=True)
keras.saving.load_model(path, safe_mode=False)
keras.config.enable_unsafe_deserialization()
pd.read_pickle(path)
"""
    assert len(unsafe_calls(bad)) == 10
    good = """
torch.load(path, map_location="cpu", weights_only=True)
np.load(path)
keras.saving.load_model(path)
model.compile(optimizer="adam")
re.compile("x")
"""
    assert unsafe_calls(good) == []


def test_no_module_in_the_package_unpickles_or_runs_code_from_a_file():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        problems = unsafe_calls(path.read_text(encoding="utf-8"), str(path))
        if problems:
            found[str(path.relative_to(PACKAGE))] = problems
    assert found == {}


class _Payload:
    """Unpickling this would create `marker`: code run from the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_torch_file_refuses_a_pickle_that_runs_code(tmp_path):
    torch = pytest.importorskip("torch")
    from kerasfactory.interop import load_torch_file
    from kerasfactory.layers import TokenEmbedding

    marker, path = tmp_path / "ran", tmp_path / "state.pt"
    torch.save({"tokenConv.weight": _Payload(marker)}, path)
    with pytest.raises(Exception) as info:
        load_torch_file(TokenEmbedding(3, 4, padding="circular", use_bias=False), path)
    assert "weights_only" in str(info.value) or "Unsupported" in str(info.value)
    assert not marker.exists()


def test_predict_refuses_a_model_file_that_carries_code(tmp_path):
    from kerasfactory.forecast.cli import main

    run = tmp_path / "run"
    run.mkdir()
    inputs = keras.Input((4, 1))
    marks = keras.Input((4, 4))
    out = keras.layers.Lambda(lambda x: x[:, -2:] * 2.0)(inputs)
    keras.Model([inputs, marks], out).save(run / "model.keras")
    data = {
        "dataset": None, "date_col": "date", "inputs": ["a"], "target": "a", "outputs": ["a"], "fill": None,
        "freq": "h", "tz": "UTC", "seq_len": 4, "pred_len": 2, "scaler": {"mean": [0.0], "scale": [1.0]},
    }
    (run / "config.json").write_text(json.dumps({"data": data}))
    csv = tmp_path / "series.csv"
    dates = np.datetime64("2024-01-01T00") + np.arange(8) * np.timedelta64(1, "h")
    csv.write_text("date,a\n" + "".join(f"{d},{i}.0\n" for i, d in enumerate(dates)))
    with pytest.raises(ValueError, match="safe_mode"):
        main(["predict", "--model", str(run / "model.keras"), "--csv", str(csv)])
    assert not (run / "predictions.csv").exists()
