"""TimeMixer against the Time-Series-Library one (`tests/reference_timemixer.py`), and its argument checks."""

import keras
import numpy as np
import pytest
import torch

from kerasfactory.models import build_timemixer
from tests.reference_timemixer import TimeMixer, configs

SEQ, PRED, N_VARS, MARKS = 32, 8, 3, 4

# Time-Series-Library state-dict key -> Keras weight path, where the general rule below does not apply.
EMBEDDING = {
    "enc_embedding.value_embedding.tokenConv.weight": "enc_embedding/embedding/value_embedding/conv/kernel",
    "enc_embedding.temporal_embedding.embed.weight": "enc_embedding/embedding/temporal_embedding/embed/kernel",
}
PARAMETERS = {"weight": "kernel", "bias": "bias", "affine_weight": "affine_weight", "affine_bias": "affine_bias"}


def keras_path(key):
    """The Keras weight path of a Time-Series-Library TimeMixer parameter, or `None` for one with no use.

    `<module>.<index>.<rest>.<param>` -> `<module>_<index>/<rest with dots as underscores>/<param>`
    (`projection_layer.<param>` -> `projection_layer/<param>`); a Linear's `weight` is the `kernel`.
    """
    if key in EMBEDDING:
        return EMBEDDING[key]
    *module, param = key.split(".")
    if key == "enc_embedding.position_embedding.pe" or module[0] == "pdm_blocks" and module[2] == "layer_norm":
        return None  # created by the reference, never used in its forward
    top = "_".join(module[:2]) if len(module) > 1 and module[1].isdigit() else module[0]
    rest = module[2:] if top != module[0] else module[1:]
    return "/".join([top, *(["_".join(rest)] if rest else []), PARAMETERS[param]])


def load_reference_weights(model, reference):
    """Copies every parameter of the torch `reference` into `model`; fails on one with nowhere to go."""
    weights = {w.path: w for w in model.weights}
    for key, value in reference.state_dict().items():
        path = keras_path(key)
        if path is None or (key.startswith("normalize_layers") and path not in weights):
            continue  # unused; so are the RevIN parameters of a model built with use_norm=False
        value = value.detach().numpy()
        if key.endswith("tokenConv.weight"):
            value = value.transpose(2, 1, 0)  # (out, in, k) -> (k, in, out)
        elif value.ndim == 2:
            value = value.T
        weights.pop(path).assign(value)
    assert not weights or list(weights) == ["future_linear/kernel"], sorted(weights)


def reference_and_model(seed=0, **hparams):
    torch.manual_seed(seed)
    ts_config = dict(d_model=8, d_ff=16, e_layers=2, down_sampling_layers=2, moving_avg=5)
    ts_config.update({k: v for k, v in hparams.items() if k in ("down_sampling_method", "down_sampling_layers")})
    if "n_layers" in hparams:
        ts_config["e_layers"] = hparams["n_layers"]
    if "use_norm" in hparams:
        ts_config["use_norm"] = int(hparams["use_norm"])
    c = configs(seq_len=SEQ, pred_len=PRED, enc_in=N_VARS, c_out=N_VARS, dropout=0.1, **ts_config)
    reference = TimeMixer(c).eval()
    with torch.no_grad():  # RevIN starts at ones and zeros: make its affine parameters matter
        for name, p in reference.named_parameters():
            if name.startswith("normalize_layers"):
                p.copy_(torch.rand(p.shape) * 0.5 + (0.75 if name.endswith("weight") else -0.25))
    model = build_timemixer(
        seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, seed=seed,
        **{**dict(d_model=8, d_ff=16, down_sampling_layers=2, moving_avg=5), **hparams},
    )
    load_reference_weights(model, reference)
    return reference, model


@pytest.mark.parametrize(
    "hparams",
    [{}, {"n_layers": 1, "down_sampling_layers": 1, "down_sampling_method": "max", "use_norm": False}],
    ids=["etth1-like", "max-pooling-no-norm"],
)
def test_matches_the_time_series_library_timemixer_with_its_weights(hparams):
    reference, model = reference_and_model(**hparams)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(3, SEQ, N_VARS)) * 2 + 1).astype("float32")
    marks = rng.uniform(-0.5, 0.5, size=(3, SEQ, MARKS)).astype("float32")
    got = keras.ops.convert_to_numpy(model([x, marks], training=False))
    with torch.no_grad():
        # One sample at a time: the reference tiles the marks of a batch across its variates out of order
        # (`x_mark.repeat(N, 1, 1)`); alone, each sample reads its own marks, as every sample does here by
        # default (`mark_order="tslib"` copies the tiling: see the whole-batch test below).
        expected = np.concatenate(
            [reference(torch.from_numpy(x[b : b + 1]), torch.from_numpy(marks[b : b + 1])).numpy() for b in range(3)]
        )
        without_marks = reference(torch.from_numpy(x), None).numpy()
    assert np.abs(expected - without_marks).max() > 1e-3  # the marks matter
    np.testing.assert_allclose(got, expected[:, -PRED:], rtol=1e-4, atol=1e-4)


def batch_and_marks(batch, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(batch, SEQ, N_VARS)) * 2 + 1).astype("float32")
    return x, rng.uniform(-0.5, 0.5, size=(batch, SEQ, MARKS)).astype("float32")


def test_by_default_each_sample_reads_its_own_marks_whatever_its_batch():
    _, model = reference_and_model()
    x, marks = batch_and_marks(5)
    whole = keras.ops.convert_to_numpy(model([x, marks], training=False))
    alone = [keras.ops.convert_to_numpy(model([x[b : b + 1], marks[b : b + 1]], training=False)) for b in range(5)]
    np.testing.assert_allclose(whole, np.concatenate(alone), rtol=0, atol=1e-5)
    assert "mark_order" not in model.get_layer("enc_embedding").get_config()  # saved configs stay as they were


@pytest.mark.parametrize("batch", [3, 4])
def test_tslib_mark_order_predicts_whole_batches_as_the_reference(batch, tmp_path):
    reference, model = reference_and_model(mark_order="tslib")
    x, marks = batch_and_marks(batch, seed=batch)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x), torch.from_numpy(marks)).numpy()[:, -PRED:]
        alone = np.concatenate([reference(torch.from_numpy(x[b : b + 1]), torch.from_numpy(marks[b : b + 1])).numpy()
                                for b in range(batch)])
    assert np.abs(expected - alone).max() > 1e-3  # the reference's batch mixes its samples' marks
    got = keras.ops.convert_to_numpy(model([x, marks], training=False))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    compiled = model.predict([x, marks], verbose=0)
    np.testing.assert_allclose(compiled, expected, rtol=0, atol=1e-4)
    assert model.get_layer("enc_embedding").get_config()["mark_order"] == "tslib"
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict([x, marks], verbose=0), compiled, rtol=0, atol=1e-6)  # same graph


def test_scales_predictors_and_target_output_have_the_reference_shapes():
    model = build_timemixer(seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, target_index=2,
                            d_model=8, d_ff=16, n_layers=1, down_sampling_layers=3, moving_avg=5)
    assert [tuple(t.shape[1:]) for t in model.get_layer("multi_scale_inputs").output[:4]] == [
        (32, 3), (16, 3), (8, 3), (4, 3)
    ]
    assert [tuple(model.get_layer(f"predict_layers_{i}").kernel.shape) for i in range(4)] == [
        (32, PRED), (16, PRED), (8, PRED), (4, PRED)
    ]
    assert tuple(model.output.shape) == (None, PRED, 1)
    assert model.get_layer("normalize_layers_0").affine  # TimeMixer's `Normalize(affine=True)`


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seq_len": 36}, "`seq_len` must be a multiple of down_sampling_window \\*\\* down_sampling_layers = 8, "
                          "got 36"),
        ({"down_sampling_method": "conv"}, "`down_sampling_method`='conv' is not supported: .*never trained"),
        ({"down_sampling_method": "median"}, "`down_sampling_method` must be one of 'avg', 'max', got 'median'"),
        ({"decomp_method": "dft_decomp"}, "`decomp_method`='dft_decomp' is not supported"),
        ({"decomp_method": "stl"}, "`decomp_method` must be one of 'moving_avg', got 'stl'"),
        ({"moving_avg": 4}, "`moving_avg` must be a positive odd integer, got 4"),
        ({"down_sampling_layers": 0}, "`down_sampling_layers` must be a positive integer, got 0"),
        ({"channel_independence": False}, "`channel_independence`=False is not supported"),
        ({"use_norm": 1}, "`use_norm` must be True or False, got 1"),
        ({"mark_dim": 3}, r"`mark_dim` must be >= 4 \(the timeF width of freq='h'\), got 3"),
        ({"mark_order": "own"}, "`mark_order` must be one of 'per_sample', 'tslib', got 'own'"),
    ],
)
def test_bad_hyperparameter_values_name_the_hyperparameter(kwargs, message):
    args = dict(seq_len=SEQ, pred_len=PRED, n_vars=N_VARS, mark_dim=MARKS, d_model=8, d_ff=16)
    with pytest.raises(ValueError, match=message):
        build_timemixer(**{**args, **kwargs})
