"""The benchmark scripts import, parse their options and print their tables (timings are never tested);
the PyTorch forecasters they compare against have the Keras models' sizes; forecasters.py and
profile_ops.py run end to end."""

import json
import math
import os
import sys

import keras
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import embeddings  # noqa: E402
import forecasters  # noqa: E402
import harness  # noqa: E402
import panel  # noqa: E402
import profile_ops  # noqa: E402

from kerasfactory.models import MODELS, build_model  # noqa: E402


def fake(batch_s, predict_batch_s=0.1, peak_mib=1000.0):
    return {"batch_s": batch_s, "predict_batch_s": predict_batch_s, "epoch_s": batch_s * 10,
            "predict_s": predict_batch_s * 10, "peak_mib": peak_mib, "first_epoch_extra_s": 3.0,
            "first_predict_extra_s": 0.5, "params": 1234}


def test_forecasters_options_default_to_the_tslib_setting_and_every_model():
    args = forecasters.options(["--synthetic"], tuple(MODELS))
    assert (args.rounds, args.epochs, args.max_batches, args.ab, args.compile) == (1, 1, None, None, {})
    assert args.models == list(MODELS) and args.backends == list(harness.BACKENDS) and args.shapes == ["96x7"]
    assert args.csv.endswith(os.path.join("shared", "data", "ETT-small", "ETTh1.csv")) and args.tree == harness.ROOT
    args = forecasters.options(["--synthetic", "--models", "linear", "--backends", "jax", "--rounds", "3",
                                "--epochs", "2", "--max-batches", "20", "--ab", ROOT, "--json", "x.json",
                                "--shapes", "336x7", "96x7", "96X21", "--compile", "jit_compile=true",
                                "--compile", "steps_per_execution=10"], ("linear",))
    assert (args.models, args.backends, args.rounds, args.epochs, args.max_batches) == (["linear"], ["jax"], 3, 2, 20)
    assert (args.ab, args.json, args.shapes) == (ROOT, "x.json", ["96x7", "336x7", "96x21"])
    assert args.compile == {"jit_compile": True, "steps_per_execution": 10}
    assert forecasters.TSLIB["itransformer"]["hparams"]["d_model"] == 128  # iTransformer_ETTh1.sh


@pytest.mark.parametrize("argv", [["--models", "nope", "--synthetic"], ["--backends", "mxnet", "--synthetic"],
                                  ["--synthetic", "--ab", "/no/such/tree"], ["--synthetic", "--shapes", "97x7"],
                                  ["--synthetic", "--compile", "jit compile"]])
def test_forecasters_options_refuse_what_does_not_exist(argv):
    with pytest.raises(SystemExit) as info:
        forecasters.options(argv, tuple(MODELS))
    assert info.value.code == 2


def test_forecasters_says_so_and_exits_2_without_the_csv(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        forecasters.main(["--csv", str(tmp_path / "ETTh1.csv")])
    assert info.value.code == 2 and "no ETTh1 CSV" in capsys.readouterr().err


def test_a_round_runs_pytorch_then_each_backend_then_the_old_tree_per_shape():
    assert list(forecasters.plan(["a", "b"], ["jax", "torch"], ab="/old")) == [
        ("pytorch", "a", None, "96x7"), ("jax", "a", "new", "96x7"), ("jax", "a", "old", "96x7"),
        ("torch", "a", "new", "96x7"), ("torch", "a", "old", "96x7"),
        ("pytorch", "b", None, "96x7"), ("jax", "b", "new", "96x7"), ("jax", "b", "old", "96x7"),
        ("torch", "b", "new", "96x7"), ("torch", "b", "old", "96x7"),
    ]
    assert [key[-1] for key in forecasters.plan(["a"], ["jax"], ab=None, shapes=["96x7", "336x7"])] == [
        "96x7", "96x7", "336x7", "336x7"]


def test_forecasters_tables_give_ratios_to_pytorch_per_batch_per_shape_and_new_over_old():
    models, backends, shapes = ["itransformer", "linear"], ["jax", "tensorflow"], ["96x7", "96x21"]
    runs = {}
    for model in models:
        for shape in shapes:
            runs[("pytorch", model, None, shape)] = [fake(1.0), fake(1.0)]
            runs[("jax", model, "new", shape)] = [fake(0.45), fake(0.55)]
            runs[("jax", model, "old", shape)] = [fake(0.5), fake(0.5)]
            runs[("tensorflow", model, "new", shape)] = [{"error": "boom"}] * 2
            runs[("tensorflow", model, "old", shape)] = [{"error": "boom"}] * 2
    summaries = {key: forecasters.summary(results) for key, results in runs.items()}
    main = forecasters.main_table(summaries, models, backends).splitlines()
    assert main[0].startswith("| model | params (Keras / PyTorch) | PyTorch train s/batch")
    assert main[2].split(" | ")[:6] == ["| itransformer", "1234 / 1234", "1.0000", "0.1000", "1000", "0.5000 (0.50x)"]
    assert main[2].endswith("| error | error | error |")
    assert forecasters.ratio_table(summaries, models, backends).splitlines()[2] == (
        "| itransformer | 0.50x · 1.00x | error |")
    assert forecasters.growth_table(summaries, models, backends, shapes).splitlines()[2] == (
        "| itransformer | jax | 0.50x · 1.00x · 1.00x | 0.50x · 1.00x · 1.00x |")
    assert "3.00 / 0.50" in forecasters.compile_table(summaries, models, backends)
    ab = forecasters.ab_table(runs, models, backends).splitlines()
    assert ab[2] == "| itransformer | 1.000 (0.900-1.100) | 1.000 (1.000-1.000) | error | error |"
    assert forecasters.errors(summaries)[0] == "96x7 tensorflow itransformer new: boom"


def test_embeddings_table_has_a_ratio_per_row_and_names_a_failed_backend():
    keys = [key for key, _ in embeddings.ROWS]
    results = {"reference": {key: {"ms": 4.0} for key in keys}, "jax": {key: {"ms": 2.0} for key in keys},
               "tensorflow": {"error": "boom"}}
    lines = embeddings.table(results, ["jax", "tensorflow"]).splitlines()
    assert len(lines) == 2 + len(embeddings.ROWS) + 1 and lines[-1] == "tensorflow: error: boom"
    assert lines[2] == "| TokenEmbedding (circular, no bias) forward | 4.00 | 2.00 (0.50x) | error |"
    merged = embeddings.merge_rounds([{"a": {"ms": 1.0}}, {"error": "x"}, {"a": {"ms": 3.0}}])
    assert merged == {"a": {"ms": 2.0, "rounds_ms": [1.0, 3.0]}}
    assert embeddings.measure(lambda: None, 3, target_s=0.001, warmup=2)["ms"] >= 0


def test_panel_table_marks_autos_choice_and_the_best_baseline():
    row = {"series": "s", "pred_len": 24, "choice": "rlinear", "auto_mse": 0.2,
           "mse": {"rlinear": 0.2, "dlinear": 0.3, "repeat last value": 0.5, "linear (ridge)": 0.4,
                   "seasonal naive": None},
           "baselines": ["linear (ridge)", "repeat last value", "seasonal naive"]}
    other = {**row, "series": "t", "auto_mse": 0.1, "mse": {"rlinear": 0.1, "seasonal naive": 0.2, "repeat last value": 0.3}}
    lines = panel.markdown([row, other]).splitlines()
    assert lines[0] == ("| series | H | auto (choice) | best baseline | rlinear | dlinear | repeat last value | "
                        "linear (ridge) | seasonal naive |")
    assert lines[2] == "| s | 24 | 0.200 (rlinear) | 0.400 | **0.200** | 0.300 | 0.500 | 0.400 | n/a |"
    assert lines[3] == "| t | 24 | 0.100 (rlinear) | 0.200 | **0.100** | n/a | 0.300 | n/a | 0.200 |"  # a method a row lacks


def test_panel_says_so_and_exits_2_without_the_ett_csv(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        panel.main(["--ett", str(tmp_path / "ETTh1.csv")])
    assert info.value.code == 2 and "no ETTh1.csv" in capsys.readouterr().err


def test_embeddings_and_forecasters_refuse_an_unknown_backend():
    for script in (embeddings, forecasters):
        with pytest.raises(SystemExit):
            script.main(["--backends", "mxnet", "--synthetic"] if script is forecasters else ["--backends", "mxnet"])


SMALL = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 24, "patch_len": 8, "stride": 4, "residual": True}


@pytest.mark.parametrize("name", list(MODELS))
def test_each_pytorch_forecaster_has_the_keras_models_parameter_count(name):
    pytest.importorskip("torch")
    import torch
    import torch_forecasters

    assert name in torch_forecasters.MODELS, f"benchmarks/torch_forecasters.py has no PyTorch version of {name!r}"
    sizes = {"seq_len": 24, "pred_len": 12, "n_vars": 3, "mark_dim": 4}
    defaults = forecasters.defaults(name)
    tslib = forecasters.TSLIB.get(name, {}).get("hparams", {})
    for hparams in ({}, {k: v for k, v in SMALL.items() if k in defaults}, tslib):
        keras_model = build_model(name, freq="h", seed=0, **sizes, **hparams)
        trainable = sum(math.prod(v.shape) for v in keras_model.trainable_variables)
        torch_model = torch_forecasters.build(name, **sizes, **{**defaults, **hparams})
        assert torch_forecasters.count_params(torch_model) == trainable, hparams
        out = torch_model(torch.randn(2, 24, 3), torch.rand(2, 24, 4) - 0.5)
        assert tuple(out.shape) == (2, 12, 3)


def test_forecasters_runs_end_to_end_on_synthetic_data(tmp_path, capsys):
    import keras

    backend = keras.backend.backend()
    out = tmp_path / "result.json"
    argv = ["--synthetic", "--max-batches", "2", "--models", "dlinear", "--backends", backend,
            "--shapes", "48x3", "--json", str(out)]
    assert forecasters.main(argv) == 0
    text = capsys.readouterr().out
    assert "64 train / 64 test windows, cut to --max-batches 2" in text and "| dlinear |" in text
    assert "| dlinear | " + backend + " | " in text  # the growth table
    payload = json.loads(out.read_text())
    assert payload["windows"] == {"train": 64, "test": 64}
    for shape in ("96x7", "48x3"):
        ours, ref = payload["summaries"][f"{backend}/dlinear/new/{shape}"], payload["summaries"][f"pytorch/dlinear/{shape}"]
        assert ours["error"] is None and ref["error"] is None
        assert ours["params"] == ref["params"]
        assert ours["batch_s"] > 0 and ours["predict_batch_s"] > 0 and ours["peak_mib"] > 0


def test_profile_ops_folds_block_indices_and_drops_jax_transformations_from_op_names():
    name = "jit(train_step)/transpose(jvp(encoder_1_attention))/query/abc,cde->abde/dot_general"
    assert profile_ops.layer_of(name) == "encoder_N_attention/query"
    assert profile_ops.layer_of("jit(train_step)/encoder_12_ff1/dot_general") == "encoder_N_ff1"
    assert profile_ops.layer_of("jit(train_step)/pdm_blocks_0/decomposition/add") == "pdm_blocks_N/decomposition"
    assert profile_ops.layer_of("jit(train_step)/add") == "(outside layers)"


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="profiles Keras on JAX in its own process whatever the lane; run once, on the JAX lane")
def test_profile_ops_names_the_models_layers_and_pytorchs_operators(tmp_path, capsys):
    out = tmp_path / "ops.json"
    assert profile_ops.main(["--models", "dlinear", "--batches", "2", "--top", "3", "--json", str(out)]) == 0
    result = json.loads(out.read_text())["dlinear"]
    layers = {layer.name for layer in build_model("dlinear", seq_len=96, pred_len=96, n_vars=7, mark_dim=4).layers}
    assert any(key.split("/")[0] in layers for key in result["jax"]["ms"]), result["jax"]["ms"]
    assert sum(result["jax"]["ms"].values()) > 0
    assert any(key.startswith("aten::") for key in result["pytorch"]["ms"])
    assert "| Keras on JAX: layer | ms/batch | share |" in capsys.readouterr().out
