"""MixUp, CutMix, RandomErasing, RandomPerspective and RandomElasticTransform against Keras: seeded layers
give Keras's outputs call after call (labels too for MixUp/CutMix); the elastic transform, whose noise Keras
draws from torch's global generator, agrees on which images it changes and on the size of the change."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_config_against_keras

SEEDED = [
    ("mixup", lambda L: L.MixUp(seed=1)),
    ("mixup_alpha", lambda L: L.MixUp(alpha=0.7, seed=2)),
    ("cutmix", lambda L: L.CutMix(seed=3)),
    ("cutmix_factor", lambda L: L.CutMix((0.3, 0.8), seed=4)),
    ("erasing_noise", lambda L: L.RandomErasing(seed=5)),
    ("erasing_value", lambda L: L.RandomErasing(0.7, scale=(0.1, 0.5), fill_value=30.0, seed=6)),
    ("erasing_rgb", lambda L: L.RandomErasing(fill_value=[10, 200, 300], seed=7)),
    ("perspective", lambda L: L.RandomPerspective(seed=8)),
    ("perspective_nearest", lambda L: L.RandomPerspective(0.6, scale=0.4, interpolation="nearest", fill_value=9.0,
                                                          seed=9)),
]


@pytest.mark.parametrize("factory", [c[1] for c in SEEDED], ids=[c[0] for c in SEEDED])
@pytest.mark.parametrize("shape", [pytest.param((4, 12, 10, 3), id="batch"),
                                   pytest.param((12, 10, 3), id="single", marks=pytest.mark.slow)])
def test_seeded_mixing_layers_match_keras(keras, factory, shape):
    x = np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32")
    e, k = factory(E), factory(keras.layers)
    for training in (True, False, True):
        a = e(torch.tensor(x), training=training)
        b = k(torch.tensor(x), training=training)
        np.testing.assert_allclose(a.numpy(), np.asarray(b.detach()), atol=1e-4, rtol=1e-5)
        if not training:
            np.testing.assert_array_equal(a.numpy(), x)


@pytest.mark.parametrize("name", ["MixUp", "CutMix"])
def test_mixup_and_cutmix_mix_labels_as_keras(keras, name):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, size=(6, 8, 8, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 1, 0, 2]]
    e, k = getattr(E, name)(seed=4), getattr(keras.layers, name)(seed=4)
    for _ in range(2):
        a = e({"images": torch.tensor(x), "labels": torch.tensor(y)})
        b = k({"images": torch.tensor(x), "labels": torch.tensor(y)})
        np.testing.assert_allclose(a["images"].numpy(), np.asarray(b["images"]), atol=1e-4)
        np.testing.assert_allclose(a["labels"].numpy(), np.asarray(b["labels"]), atol=1e-6)
        np.testing.assert_allclose(a["labels"].numpy().sum(-1), 1.0, atol=1e-6)  # still distributions
    with pytest.raises(ValueError, match="bounding boxes"):
        e({"images": torch.tensor(x), "bounding_boxes": {}})


def test_elastic_transform_changes_the_images_keras_changes(keras):
    x = np.random.default_rng(2).uniform(0, 255, size=(6, 12, 10, 3)).astype("float32")
    factory = lambda L: L.RandomElasticTransform(0.5, (0.3, 0.9), seed=11)  # noqa: E731
    e, k = factory(E), factory(keras.layers)
    for training in (True, False, True):
        a = e(torch.tensor(x), training=training).numpy()
        b = np.asarray(k(torch.tensor(x), training=training))
        same_e = [np.allclose(a[i], x[i]) for i in range(6)]
        assert same_e == [np.allclose(b[i], x[i]) for i in range(6)]
        assert a.min() >= 0 and a.max() <= 255 and a.dtype == np.float32
        if training and not all(same_e):
            # a comparable distortion: mean absolute change within a factor of two of Keras's
            ratio = np.abs(a - x).mean() / np.abs(b - x).mean()
            assert 0.5 < ratio < 2.0, ratio
    # unlike Keras's (global torch generator), a seeded engine layer repeats itself
    np.testing.assert_array_equal(factory(E)(torch.tensor(x)).numpy(), factory(E)(torch.tensor(x)).numpy())


ALL = SEEDED + [("elastic", lambda L: L.RandomElasticTransform(0.8, (0.3, 0.9), fill_mode="constant",
                                                                fill_value=3.0, seed=11))]


@pytest.mark.parametrize("factory", [c[1] for c in ALL], ids=[c[0] for c in ALL])
def test_mixing_layer_configs_match_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    layer = check_config_against_keras(named, keras=keras)
    assert registry.category_of(type(layer).__name__) == "Preprocessing"


def test_mixing_layers_refuse_bad_arguments():
    with pytest.raises(ValueError, match="factor"):
        E.CutMix(1.5)
    with pytest.raises(ValueError, match="fill_value"):
        E.RandomErasing(fill_value=[1, 2])
    with pytest.raises(ValueError, match="scale"):
        E.RandomPerspective(scale=2.0)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        E.RandomElasticTransform(fill_mode="mirror")
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        E.MixUp()(torch.zeros(3, 4))


def test_mixing_layers_in_a_model_pass_through_at_inference():
    model = engine.Sequential([E.Input((10, 10, 3)), E.RandomErasing(), E.RandomPerspective(), E.CutMix(),
                               E.MixUp(), E.RandomElasticTransform(), E.Flatten(), E.Dense(2)])
    x = np.random.default_rng(3).uniform(0, 255, (4, 10, 10, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
