"""The benchmark scripts import, parse their options and print their tables (timings are never tested)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import embeddings  # noqa: E402
import floors  # noqa: E402
import temporal_paths  # noqa: E402
import token_paths  # noqa: E402


def row(ms):
    return {"ms": ms}


def results(keys, ours):
    ref = {key: row(4.0 if "forward" in key else 10.0) for key in keys}
    return {"reference": ref, "jax": {key: row(ours) for key in keys}, "tensorflow": {"error": "boom"}}


def test_floors_table_prints_each_target_from_the_reference_of_the_run():
    keys = [key for key, _ in floors.ROWS]
    text = floors.table(results(keys, 1.0), ["jax", "tensorflow"])
    assert "TokenEmbedding forward <= 0.15 x reference on the fastest backend = 0.60 ms" in text
    assert "TokenEmbedding forward <= 0.5 x reference on every backend = 2.00 ms" in text
    assert "TokenEmbedding train step <= 0.2 x reference on the fastest backend = 2.00 ms" in text
    # A floor is divided by the reference row it sits under: 1 ms / 10 ms for the train function.
    assert [line for line in text.splitlines() if "compiled train function" in line][0].split()[-2] == "0.10x"
    assert "tensorflow: error: boom" in text
    # Contraction, gather and the layer's call at 1 ms each: 3 ms, reached by 0.15 x of 20 ms.
    assert "jax: forward floor (contraction + gather + call) = 3.00 ms; 0.15 x reaches it from a reference of 20.00 ms" in text


def test_floors_table_prints_ours_without_ratios_when_the_reference_failed():
    keys = [key for key, _ in floors.ROWS]
    text = floors.table({"reference": {"error": "no torch"}, "jax": {key: row(1.0) for key in keys}}, ["jax"])
    assert "1.00" in text and "x" not in text.split("\n")[2].split("1.00")[-1]


def test_embeddings_table_has_a_ratio_per_row_and_a_scaling_block():
    keys = [key for key, _ in embeddings.ROWS] + [f"scale_T{t}_D{d}" for t, d in embeddings.SCALING]
    text = embeddings.table(results(keys, 2.0), ["jax", "tensorflow"])
    assert [line for line in text.splitlines() if line.startswith("TokenEmbedding forward ")][0].split()[-2] == "0.50x"
    assert "Scaling: TokenEmbedding forward" in text


def test_measure_syncs_and_drops_every_output_unless_told_to_hold_it(monkeypatch):
    seen = {"calls": 0, "syncs": 0}

    def fn():
        seen["calls"] += 1
        return seen["calls"]

    def sync(out):
        seen["syncs"] += 1

    result = embeddings.measure(fn, sync, 3, target_s=0.001, warmup=2)
    assert seen["calls"] == seen["syncs"] and result["faults_per_call"] >= 0
    monkeypatch.setattr(embeddings, "LOOP", "hold")
    seen.update(calls=0, syncs=0)
    embeddings.measure(fn, sync, 3, target_s=0.001, warmup=2)
    assert seen["syncs"] < seen["calls"]


def test_run_rounds_rejects_an_unknown_backend():
    with pytest.raises(SystemExit):
        embeddings.run_rounds(["--backends", "mxnet"], floors.__doc__, floors.__file__, None, None)


def test_temporal_paths_times_both_lookups_per_configuration_and_names_the_pick():
    import keras

    timings = iter(range(1, 10_000))
    lines = [line.split("\t") for line in temporal_paths.rows(2, measure=lambda *a, **k: {"ms": float(next(timings))})]
    assert [(embed_type, freq) for _, embed_type, freq, *_ in lines] == temporal_paths.CONFIGS
    for backend, _, _, per_group, one, picked in lines:
        assert backend == keras.backend.backend() and picked in ("one_lookup", "per_group")
        # Two rounds, one_lookup timed just before per_group: ratios n / (n + 1) below 1.
        assert float(per_group) > 1 and 0.5 <= float(one) < 1


def test_token_paths_times_every_body_each_padding_allows_and_names_the_pick():
    import keras

    timings = iter(range(1, 10_000))
    lines = [line.split("\t") for line in token_paths.rows(1, measure=lambda *a, **k: {"ms": float(next(timings))})]
    assert [(padding, bias) for _, padding, bias, *_ in lines] == [(p, str(b)) for p, b in token_paths.CONFIGS]
    for backend, padding, bias, gather, rolls, conv, picked in lines:
        assert backend == keras.backend.backend() and picked in ("gather", "rolls", "conv")
        # One round, bodies timed in order gather, rolls[, conv]: the fake timings are 1, 2[, 3] apart.
        assert float(rolls) > 1 and (conv == "-") == (padding != "same")
