"""The checks every layer passes, on whichever backend `KERAS_BACKEND` names."""

import json

import keras
import numpy as np
import pytest

from tests.cases import CASES
from tests.harness import functional_model, numpy_inputs, to_numpy

cases = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)


@cases
def test_eager_call_gives_documented_shape_and_finite_values(case):
    layer = case.make()
    out = to_numpy(layer(*numpy_inputs(case)))
    assert out.shape == case.output_shape
    assert np.all(np.isfinite(out))
    if case.weights is not None:
        assert len(layer.weights) == case.weights


@cases
def test_functional_model_matches_eager_call(case):
    arrays = numpy_inputs(case)
    layer = case.make()
    model = functional_model(layer, arrays)
    expected = to_numpy(layer(*arrays))
    got = model.predict(list(arrays), verbose=0)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    symbolic = model.outputs[0].shape
    assert tuple(symbolic)[1:] == case.output_shape[1:]


@cases
def test_functional_model_builds_every_sub_layer(case):
    # Keras's `Model.quantize` refuses a model with an unbuilt layer, weightless or not.
    model = functional_model(case.make(), numpy_inputs(case))
    assert [layer.name for layer in model._flatten_layers() if not layer.built] == []


@cases
def test_config_round_trips_through_json(case):
    arrays = numpy_inputs(case)
    layer = case.make()
    expected = to_numpy(layer(*arrays))
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    clone(*arrays)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(clone(*arrays)), expected, atol=1e-6)
    assert clone.get_config() == layer.get_config()


@cases
def test_keras_file_save_load_gives_identical_outputs(case, tmp_path):
    arrays = numpy_inputs(case)
    model = functional_model(case.make(), arrays)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(list(arrays), verbose=0), model.predict(list(arrays), verbose=0)
    )


@cases
def test_fit_lowers_loss_with_finite_gradients(case):
    keras.utils.set_random_seed(0)
    arrays = numpy_inputs(case)
    inputs = [keras.Input(shape=a.shape[1:], dtype=str(a.dtype)) for a in arrays]
    out = keras.layers.Dense(1)(case.make()(*inputs))
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    batch = arrays[0].shape[0]
    target = np.random.default_rng(1).standard_normal((batch, *out.shape[1:])).astype("float32")
    history = model.fit(list(arrays), target, epochs=8, batch_size=batch, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    for w in model.weights:
        assert np.all(np.isfinite(to_numpy(w)))


@cases
def test_mixed_bfloat16_policy_sets_output_dtype(case):
    layer = case.make(dtype="mixed_bfloat16")
    out = layer(*numpy_inputs(case))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert np.all(np.isfinite(to_numpy(keras.ops.cast(out, "float32"))))
    for w in layer.weights:
        assert keras.backend.standardize_dtype(w.dtype) == "float32"


@cases
def test_float64_policy_computes_in_float64(case):
    # float64 where the backend holds it (JAX only with x64 enabled, as Keras's own layers),
    # and in float64 throughout: a nudge of 1e-9 to the first input, lost in float32, moves
    # the output as the first-order change it is (twice the nudge, twice the move).
    wide = keras.backend.standardize_dtype(keras.ops.convert_to_tensor(np.zeros(1, "float64")).dtype)
    layer = case.make(dtype="float64")
    first, *rest = numpy_inputs(case)
    out = layer(first, *rest)
    assert keras.backend.standardize_dtype(out.dtype) == wide
    if wide != "float64" or not np.issubdtype(first.dtype, np.floating) or np.all(first == np.round(first)):
        return  # no float64 here, or the first input holds indices
    x = first.astype("float64")
    r = np.random.default_rng(1).standard_normal(x.shape)

    def moved(step):
        return to_numpy(layer(x + step * r, *rest)) - to_numpy(layer(x, *rest))

    if not np.any(moved(1.0)):
        return  # the output does not read the values of the first input
    once, twice = moved(1e-9), moved(2e-9)
    assert np.any(once)
    np.testing.assert_allclose(once, twice / 2, rtol=1e-4, atol=1e-4 * np.max(np.abs(twice)))


@cases
@pytest.mark.filterwarnings("ignore:Layer .* does not have a `quantize` method")  # Keras, per weightless leaf
def test_int8_quantized_model_predicts_close_to_the_float_one(case):
    # `Model.quantize` reaches the Dense sub-layers: a layer that used their kernels directly
    # would multiply by the int8 values without their scales.
    arrays = numpy_inputs(case)
    model = functional_model(case.make(), arrays)
    expected = model.predict(list(arrays), verbose=0)
    model.quantize("int8")
    got = model.predict(list(arrays), verbose=0)
    np.testing.assert_allclose(got, expected, atol=0.05 * np.max(np.abs(expected)))
