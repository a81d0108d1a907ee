"""Mixed precision: outputs follow the dtype policy, sinusoid tables keep float32
accuracy, and a forecaster trains under `mixed_bfloat16`.

(`mixed_bfloat16` output dtypes are a harness check; `mixed_float16` is here,
over the same `CASES`.)
"""

import keras
import numpy as np
import pytest

from kerasfactory import layers, models
from tests.cases import CASES
from tests.harness import numpy_inputs, to_numpy

POLICIES = ("mixed_float16", "mixed_bfloat16")


def as_float32(x):
    return to_numpy(keras.ops.cast(x, "float32"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mixed_float16_policy_sets_output_dtype(case):
    layer = case.make(dtype="mixed_float16")
    out = layer(*numpy_inputs(case))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(as_float32(out)))
    for w in layer.weights:
        assert keras.backend.standardize_dtype(w.dtype) == "float32"


def table_rounded_to(dtype, rows, d_model):
    """The float32 table, rounded once to `dtype` (what a correct layer returns)."""
    return as_float32(keras.ops.cast(layers.sinusoid_table(rows, d_model), dtype))


@pytest.mark.parametrize("policy", POLICIES)
def test_sinusoid_tables_are_float32_before_the_cast_at_position_5000(policy):
    compute = policy.split("_")[1]
    d_model, rows = 16, 5001
    expected = table_rounded_to(compute, rows, d_model)[5000]
    x = np.zeros((1, rows, 1), "float32")
    positional = layers.PositionalEmbedding(rows, d_model=d_model, dtype=policy)(x)
    fixed = layers.FixedEmbedding(rows, d_model, dtype=policy)(np.array([[5000]], "int32"))
    np.testing.assert_array_equal(as_float32(positional)[0, 5000], expected)
    np.testing.assert_array_equal(as_float32(fixed)[0, 0], expected)
    # The test can tell: the same formula evaluated in the low precision is far off.
    div = np.exp(np.arange(0, d_model, 2) * -(np.log(10000.0) / d_model)).astype("float16")
    low = np.sin((np.float16(5000) * div).astype("float32"))
    assert np.abs(low - expected[0::2]).max() > 0.05


@pytest.mark.parametrize("name", ["itransformer", "transformer"])
def test_forecaster_trains_under_mixed_bfloat16_with_finite_loss(name):
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.build_model(
            name, seq_len=16, pred_len=4, n_vars=2, mark_dim=4, seed=0, d_model=16, n_heads=2, n_layers=1, d_ff=16
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((8, 16, 2)).astype("float32")
        marks = (rng.random((8, 16, 4)) - 0.5).astype("float32")
        y = rng.standard_normal((8, 4, 2)).astype("float32")
        history = model.fit([x, marks], y, batch_size=4, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert any(keras.backend.standardize_dtype(layer.compute_dtype) == "bfloat16" for layer in model.layers)
        for w in model.trainable_weights:
            assert keras.backend.standardize_dtype(w.dtype) == "float32"
            assert np.all(np.isfinite(to_numpy(w)))
    finally:
        keras.config.set_dtype_policy(previous)
