"""`compile_model` and `set_random_seed`: how the Forecaster compiles and seeds a model."""

import keras
import numpy as np
import pytest

from kerasfactory.models import build_model, compile_model, compile_options, set_random_seed
from kerasfactory.models.compiling import STEPS_PER_EXECUTION


def small_model():
    return build_model("dlinear", seq_len=16, pred_len=4, n_vars=3, mark_dim=4, seed=0)


def data(n=80):
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((n, 16, 3)).astype("float32"), rng.standard_normal((n, 16, 4)).astype("float32")]
    return x, rng.standard_normal((n, 4, 3)).astype("float32")


def test_jax_runs_several_batches_per_call_and_tensorflow_and_torch_one():
    model = compile_model(small_model(), learning_rate=1e-2)
    expected = STEPS_PER_EXECUTION if keras.backend.backend() == "jax" else 1
    assert model.steps_per_execution == expected == compile_options()["steps_per_execution"]
    assert compile_model(small_model(), steps_per_execution=1).steps_per_execution == 1  # an explicit setting wins


def test_training_several_batches_per_call_gives_the_weights_of_one_per_call():
    # 5 batches of 16, not a multiple of the steps per call: the last call runs fewer. PyTorch's
    # backend refuses more than one step per call, so there the default is compared with 1.
    x, y = data()
    several = 1 if keras.backend.backend() == "torch" else STEPS_PER_EXECUTION
    trained = []
    for steps in (several, 1):
        model = compile_model(small_model(), learning_rate=1e-2, steps_per_execution=steps)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        trained.append((model.get_weights(), model.predict(x, batch_size=16, verbose=0)))
    (fast_weights, fast_pred), (plain_weights, plain_pred) = trained
    assert len(fast_pred) == len(x[0])
    for a, b in zip(fast_weights, plain_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast_pred, plain_pred, rtol=1e-5, atol=1e-6)


def test_a_saved_model_records_keras_default_steps_so_it_loads_and_predicts_on_every_backend(tmp_path):
    x, y = data(32)
    model = compile_model(small_model(), learning_rate=1e-2)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    assert model.get_compile_config()["steps_per_execution"] == 1
    loaded = keras.saving.load_model(path)
    assert loaded.steps_per_execution == 1  # the PyTorch backend refuses more
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_seeding_matches_keras_and_leaves_tensorflow_unloaded_on_other_backends():
    # In a fresh process, since this one may have loaded TensorFlow already.
    import subprocess
    import sys

    code = """if True:
        import sys
        import keras, numpy as np
        from kerasfactory.models import build_model, set_random_seed
        def weights(seed_with):
            seed_with(3)
            return build_model("itransformer", seq_len=16, pred_len=4, n_vars=3, mark_dim=4, d_model=8,
                               n_heads=2, n_layers=1, d_ff=8).get_weights()
        ours = weights(set_random_seed)
        loaded = "tensorflow" in sys.modules
        same = all(np.array_equal(a, b) for a, b in zip(ours, weights(keras.utils.set_random_seed)))
        print(loaded, same)
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-2:] == [str(keras.backend.backend() == "tensorflow"), "True"]


@pytest.mark.parametrize("seed", [None, -1, 1.5, "3", True])
def test_seeding_refuses_what_is_not_a_non_negative_integer_naming_seed(seed):
    with pytest.raises(ValueError, match=r"`seed` must be .*non-negative integer, got"):
        set_random_seed(seed)
