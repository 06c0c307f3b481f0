"""Augmentation layers against Keras: with the same seed they draw and transform as Keras's layers
(call after call), pass images through at inference, and have Keras's configs."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_config_against_keras

SEEDED = [
    ("flip", lambda L: L.RandomFlip(seed=3)),
    ("flip_h", lambda L: L.RandomFlip("horizontal", seed=4)),
    ("flip_v", lambda L: L.RandomFlip("vertical", seed=5)),
    ("rotation", lambda L: L.RandomRotation(0.2, seed=6)),
    ("rotation_const", lambda L: L.RandomRotation((-0.3, 0.1), fill_mode="constant", fill_value=3.0, seed=7)),
    ("rotation_nearest", lambda L: L.RandomRotation(0.25, interpolation="nearest", fill_mode="wrap", seed=8)),
    ("zoom", lambda L: L.RandomZoom(0.3, seed=9)),
    ("zoom_wh", lambda L: L.RandomZoom((-0.4, 0.2), (0.1, 0.3), fill_mode="nearest", seed=10)),
    ("translation", lambda L: L.RandomTranslation(0.2, 0.3, seed=11)),
    ("translation_const", lambda L: L.RandomTranslation((-0.1, 0.3), 0.2, fill_mode="constant", seed=12)),
    ("contrast", lambda L: L.RandomContrast(0.5, seed=13)),
    ("contrast_range", lambda L: L.RandomContrast((0.2, 0.6), value_range=(0, 1), seed=14)),
    ("brightness", lambda L: L.RandomBrightness(0.3, seed=15)),
    ("brightness_range", lambda L: L.RandomBrightness((-0.2, 0.5), value_range=(0, 1), seed=16)),
    ("crop", lambda L: L.RandomCrop(5, 4, seed=17)),
    ("crop_resize", lambda L: L.RandomCrop(9, 12, seed=18)),
    ("shear_x", lambda L: L.RandomShear(0.3, seed=30)),
    ("shear_xy", lambda L: L.RandomShear((0.1, 0.4), 0.2, fill_mode="constant", seed=31)),
    ("invert", lambda L: L.RandomInvert(seed=19)),
    ("invert_factor", lambda L: L.RandomInvert(0.4, value_range=(0, 1), seed=20)),
    ("solarization", lambda L: L.Solarization(seed=23)),
    ("solarization_factors", lambda L: L.Solarization(0.3, (0.2, 0.8), value_range=(0, 1), seed=24)),
]

BATCHED_ONLY = [  # Keras's own layers need a batch for these (or three channels)
    ("grayscale", lambda L: L.RandomGrayscale(0.5, seed=21), (6, 5, 4, 3)),
    ("grayscale_unbatched", lambda L: L.RandomGrayscale(0.7, seed=22), (5, 4, 3)),
    ("posterization", lambda L: L.RandomPosterization(6, seed=25), (4, 5, 4, 3)),
    ("posterization_range", lambda L: L.RandomPosterization((2, 7), value_range=(0, 1), seed=26), (4, 5, 4, 3)),
    ("posterization_fixed", lambda L: L.RandomPosterization((3, 3), seed=27), (4, 5, 4, 3)),
    ("color_degeneration", lambda L: L.RandomColorDegeneration(0.8, seed=28), (4, 5, 4, 3)),
    ("color_degeneration_range", lambda L: L.RandomColorDegeneration((0.2, 1.0), value_range=(0, 100), seed=29),
     (4, 5, 4, 3)),
    ("auto_contrast", lambda L: L.AutoContrast(), (3, 5, 4, 2)),
    ("auto_contrast_range", lambda L: L.AutoContrast(value_range=(0, 1)), (3, 5, 4, 2)),
]


@pytest.mark.parametrize("factory,shape", [c[1:] for c in BATCHED_ONLY], ids=[c[0] for c in BATCHED_ONLY])
def test_color_augmentation_matches_keras(keras, factory, shape):
    x = np.random.default_rng(0).uniform(0, 200, size=shape).astype("float32")
    if "auto" in factory(E).name:
        x[0, ..., 1] = 7.0  # a constant channel stays as it is
    e, k = factory(E), factory(keras.layers)
    for training in (True, True, False, True):
        a = e(torch.tensor(x), training=training)
        b = k(torch.tensor(x), training=training)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-3, rtol=1e-5)
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


@pytest.mark.slow
@pytest.mark.parametrize("factory", [c[1] for c in SEEDED], ids=[c[0] for c in SEEDED])
@pytest.mark.parametrize("batched", [True, False])
def test_seeded_augmentation_matches_keras(keras, factory, batched):
    shape = (3, 8, 7, 2) if batched else (8, 7, 2)
    x = np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32")
    e, k = factory(E), factory(keras.layers)
    for _ in range(3):  # the seed generator advances the same way call after call
        a = e(torch.tensor(x), training=True)
        b = k(torch.tensor(x), training=True)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-3, rtol=1e-5)
    # At inference the images pass through, as in Keras.
    np.testing.assert_allclose(e(torch.tensor(x), training=False).numpy(),
                               k(torch.tensor(x), training=False).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(e(torch.tensor(x), training=False).numpy(), x, atol=1e-6)


@pytest.mark.parametrize("factory", [c[1] for c in SEEDED if not c[0].startswith("shear")],
                         ids=[c[0] for c in SEEDED if not c[0].startswith("shear")])
def test_augmentation_config_matches_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


def test_augmentation_actually_changes_images_in_training():
    x = torch.rand(16, 8, 8, 3) * 255
    for layer in (E.RandomFlip(), E.RandomRotation(0.2), E.RandomZoom(0.3), E.RandomTranslation(0.2, 0.2),
                  E.RandomContrast(0.5), E.RandomBrightness(0.3)):
        assert not torch.allclose(layer(x, training=True), x), layer.name
        assert registry.category_of(type(layer).__name__) == "Preprocessing"


def test_image_classification_model_with_augmentation_loads_from_keras(keras, tmp_path):
    # The keras.io image-classification examples put augmentation inside the model.
    def build(lib):
        inp = lib.Input(shape=(16, 16, 3))
        aug = lib.Sequential([lib.layers.RandomFlip("horizontal"), lib.layers.RandomRotation(0.1),
                              lib.layers.RandomZoom(0.1)], name="augmentation")
        x = lib.layers.Rescaling(1 / 255)(aug(inp))
        x = lib.layers.Conv2D(4, 3, activation="relu")(x)
        x = lib.layers.GlobalAveragePooling2D()(x)
        return lib.Model(inp, lib.layers.Dense(2)(x))

    k = build(keras)
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    for ext in ("keras", "h5"):
        k.save(str(tmp_path / f"k.{ext}"))
        e = engine.models.load_model(str(tmp_path / f"k.{ext}"))
        np.testing.assert_allclose(e.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)
    e.save(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(keras.models.load_model(str(tmp_path / "e.keras")).predict(x, verbose=0),
                               k.predict(x, verbose=0), atol=1e-5)


def test_augmentation_errors():
    with pytest.raises(ValueError, match="unknown mode"):
        E.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="factor"):
        E.RandomContrast(1.5)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        E.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="images"):
        E.RandomFlip()(torch.zeros(2, 3), training=True)


def test_shear_config_matches_keras_and_reads_keras_configs(keras):
    # Keras writes (-f, f) pairs that its own from_config refuses; the engine reads them.
    e, k = E.RandomShear(0.3, 0.1, seed=1, name="s"), keras.layers.RandomShear(0.3, 0.1, seed=1, name="s")
    assert e.get_config() == k.get_config()
    assert E.RandomShear.from_config(k.get_config()).get_config() == e.get_config()
