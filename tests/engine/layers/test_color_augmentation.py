"""Colour and filter augmentation layers against Keras: with the same seed they draw and transform as
Keras's layers call after call (training and inference interleaved, batched and single images), and have
Keras's configs."""
import numpy as np
import pytest
import torch

from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_config_against_keras

CASES = [  # (id, factory, value scale)
    ("hue", lambda L: L.RandomHue(0.5, seed=1), 255),
    ("hue_unit_range", lambda L: L.RandomHue((0.2, 0.9), value_range=(0, 1), seed=2), 1),
    ("saturation", lambda L: L.RandomSaturation(0.5, seed=3), 255),
    ("saturation_pair", lambda L: L.RandomSaturation((0.2, 0.8), seed=4), 255),
    ("sharpness", lambda L: L.RandomSharpness(0.7, seed=5), 255),
    ("sharpness_pair", lambda L: L.RandomSharpness((0.1, 0.9), value_range=(0, 1), seed=6), 1),
    ("jitter_all", lambda L: L.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=0.4,
                                                 hue_factor=0.3, seed=7), 255),
    ("jitter_hue", lambda L: L.RandomColorJitter(value_range=(0, 1), hue_factor=(0.1, 0.5), seed=8), 1),
    ("blur", lambda L: L.RandomGaussianBlur(0.8, kernel_size=5, sigma=(0.3, 1.0), seed=9), 255),
    ("blur_default", lambda L: L.RandomGaussianBlur(seed=10), 255),
    ("equalization", lambda L: L.Equalization(), 255),
    ("equalization_bins", lambda L: L.Equalization(value_range=(0, 1), bins=32), 1),
]


@pytest.mark.parametrize("factory,scale", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("shape", [pytest.param((4, 6, 5, 3), id="batch"),
                                   pytest.param((6, 5, 3), id="single", marks=pytest.mark.slow)])
def test_color_layers_match_keras(keras, factory, scale, shape):
    x = (np.random.default_rng(0).uniform(0, 1, size=shape) * scale).astype("float32")
    e, k = factory(E), factory(keras.layers)
    changed = False
    for training in (True, False, True):
        a = e(torch.tensor(x), training=training)
        b = k(torch.tensor(x), training=training)
        np.testing.assert_allclose(a.numpy(), np.asarray(b.detach()), atol=1e-4, rtol=1e-5)
        if not training:  # inference passes the images through, as in Keras
            np.testing.assert_array_equal(a.numpy(), x)
        changed |= training and not np.allclose(a.numpy(), x)
    assert changed, "the layer never changed the images in training"


@pytest.mark.parametrize("factory", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_color_layer_configs_match_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    layer = check_config_against_keras(named, keras=keras)
    assert registry.category_of(type(layer).__name__) == "Preprocessing"


def test_equalization_leaves_constant_channels_and_takes_integer_images(keras):
    x = np.full((2, 4, 4, 3), 7.0, "float32")
    np.testing.assert_array_equal(E.Equalization()(torch.tensor(x)).numpy(), x)
    xi = np.random.default_rng(1).integers(0, 255, (2, 4, 4, 3)).astype("uint8")
    np.testing.assert_array_equal(E.Equalization()(torch.tensor(xi)).numpy(),
                                  np.asarray(keras.layers.Equalization()(torch.tensor(xi))))


def test_color_layers_refuse_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"factor.*\[0, 1\]"):
        E.RandomHue(1.5)
    with pytest.raises(ValueError, match="value_range"):
        E.RandomSharpness(0.5, value_range=5)
    with pytest.raises(ValueError, match="odd number"):
        E.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="not square"):
        E.RandomGaussianBlur(kernel_size=(3, 5))(torch.zeros(1, 8, 8, 3))
    with pytest.raises(ValueError, match="RGB images"):
        E.RandomHue(0.5)(torch.zeros(2, 4, 4, 1))
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        E.Equalization()(torch.zeros(4, 4))


def test_color_layers_in_a_model_train_only_when_fitting():
    import engine

    model = engine.Sequential([E.Input((8, 8, 3)), E.RandomColorJitter(brightness_factor=0.5, hue_factor=0.5),
                               E.RandomGaussianBlur(), E.Equalization(), E.Flatten(), E.Dense(2)])
    x = np.random.default_rng(2).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
    assert model.output_shape == (None, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))  # inference: deterministic
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
