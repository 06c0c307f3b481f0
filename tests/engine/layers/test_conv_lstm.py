"""ConvLSTM1D/2D/3D against Keras: outputs, gradients, weights, masks, configs and files."""
import numpy as np
import pytest

import engine
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras

CASES = [
    ("2d", lambda L: L.ConvLSTM2D(3, 3), (2, 4, 6, 5, 2)),
    ("2d_same_seq", lambda L: L.ConvLSTM2D(2, (2, 3), padding="same", return_sequences=True), (2, 3, 5, 4, 2)),
    ("2d_strided_back", lambda L: L.ConvLSTM2D(2, 3, strides=2, go_backwards=True, activation="relu"),
     (1, 3, 7, 7, 2)),
    ("2d_state", lambda L: L.ConvLSTM2D(2, 2, return_state=True, use_bias=False), (2, 3, 4, 4, 1)),
    ("1d", lambda L: L.ConvLSTM1D(4, 3, dilation_rate=2, return_sequences=True), (2, 5, 9, 3)),
    ("3d", lambda L: L.ConvLSTM3D(2, 2, padding="same"), (1, 2, 3, 2, 3, 1)),
]


@pytest.mark.slow
@pytest.mark.parametrize("factory,shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_conv_lstm_matches_keras(keras, factory, shape):
    check_against_keras(factory, shape, keras=keras, atol=1e-5)


def test_conv_lstm_mask_and_config_match_keras(keras):
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 1]], bool)
    check_against_keras(lambda L: L.ConvLSTM2D(2, 3, return_sequences=True), (2, 4, 5, 5, 2), keras=keras,
                        mask=mask)
    check_config_against_keras(lambda L: L.ConvLSTM2D(4, (3, 2), strides=(1, 2), padding="same", dropout=0.1,
                                                      unit_forget_bias=False, name="c"), keras=keras)
    assert registry.category_of("ConvLSTM2D") == "Recurrent"


@pytest.mark.slow
def test_conv_lstm_model_files_go_both_ways(keras, tmp_path):
    def build(lib):
        inp = lib.Input(shape=(3, 6, 6, 1))
        x = lib.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True, name="c1")(inp)
        x = lib.layers.ConvLSTM2D(2, 3, name="c2")(x)
        return lib.Model(inp, lib.layers.GlobalAveragePooling2D()(x))

    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6, 1)).astype("float32")
    e = build(engine)
    e.save(str(tmp_path / "e.keras"))
    k = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(k.predict(x, verbose=0), e.predict(x, verbose=0), atol=1e-5)
    for ext in ("keras", "h5"):
        k.save(str(tmp_path / f"k.{ext}"))
        back = engine.models.load_model(str(tmp_path / f"k.{ext}"))
        np.testing.assert_allclose(back.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)
