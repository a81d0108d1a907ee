"""The examples of the TokenEmbedding docs page (the spec), run as written.

The one deviation is the page's own broken line
`keras.random.uniform(..., dtype='int32')`, which Keras 3 rejects; the working
form `keras.random.randint` is used, as our docs show.
"""

import json

import keras
import numpy as np
import pytest


def test_forecasting_model_builds_compiles_fits_and_predicts():
    from kerasfactory.layers import PositionalEmbedding, TokenEmbedding

    def create_forecasting_model():
        inputs = keras.Input(shape=(96, 7))
        x = TokenEmbedding(c_in=7, d_model=64)(inputs)
        x = x + PositionalEmbedding(max_len=96, d_model=64)(x)
        x = keras.layers.MultiHeadAttention(num_heads=8, key_dim=8)(x, x)
        x = keras.layers.Dense(128, activation="relu")(x)
        x = keras.layers.Dense(32, activation="relu")(x)
        outputs = keras.layers.Dense(7)(x)
        return keras.Model(inputs, outputs)

    model = create_forecasting_model()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 96, 7)).astype("float32")
    history = model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(x[:3], verbose=0).shape == (3, 96, 7)


def test_multivariate_example_prints_the_documented_shape(capsys):
    from kerasfactory.layers import DataEmbeddingWithoutPosition, TemporalEmbedding, TokenEmbedding  # noqa: F401

    token_emb = TokenEmbedding(c_in=12, d_model=96)
    temporal_emb = TemporalEmbedding(d_model=96, embed_type="fixed")
    x = keras.random.normal((32, 100, 12))
    x_mark = keras.random.randint((32, 100, 5), minval=0, maxval=24)
    x_embedded = token_emb(x)
    temporal_features = temporal_emb(x_mark)
    combined = x_embedded + temporal_features
    print(f"Combined embedding shape: {combined.shape}")
    # torch prints its shapes as torch.Size([32, 100, 96]); the numbers are the page's.
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("Combined embedding shape: ") and "32, 100, 96" in printed
    assert tuple(combined.shape) == (32, 100, 96)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(combined)))


def test_the_page_broken_line_is_rejected_by_keras_itself():
    with pytest.raises(ValueError):
        keras.random.uniform((32, 100, 5), minval=0, maxval=24, dtype="int32")


def test_custom_initialization_example():
    from kerasfactory.layers import TokenEmbedding

    token_emb = TokenEmbedding(c_in=8, d_model=64)
    conv_layer = token_emb.conv
    conv_layer.kernel_initializer = keras.initializers.HeNormal()
    assert token_emb(keras.random.normal((2, 10, 8))).shape == (2, 10, 64)


def test_config_to_json_file_and_back(tmp_path, monkeypatch):
    from kerasfactory.layers import TokenEmbedding

    monkeypatch.chdir(tmp_path)
    token_emb = TokenEmbedding(c_in=8, d_model=64)
    config = token_emb.get_config()
    with open("token_embedding_config.json", "w") as f:
        json.dump(config, f)
    new_layer = TokenEmbedding.from_config(config)
    with open("token_embedding_config.json") as f:
        assert TokenEmbedding.from_config(json.load(f)).get_config() == new_layer.get_config()


def test_shape_tests(capsys):
    from kerasfactory.layers import TokenEmbedding

    token_emb = TokenEmbedding(c_in=7, d_model=64)
    x_small = keras.random.normal((1, 96, 7))
    out_small = token_emb(x_small)
    assert out_small.shape == (1, 96, 64)
    x_large = keras.random.normal((256, 96, 7))
    out_large = token_emb(x_large)
    assert out_large.shape == (256, 96, 64)
    x_diff_time = keras.random.normal((32, 200, 7))
    out_diff_time = token_emb(x_diff_time)
    assert out_diff_time.shape == (32, 200, 64)
    print("✅ All shape tests passed!")
    assert "All shape tests passed" in capsys.readouterr().out
