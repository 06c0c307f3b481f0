"""RandAugment and AugMix against Keras. AugMix on batches equals Keras's output for the same seed (and
the same Python random state, which both use to pick the chain operations). RandAugment picks Keras's
operations and applies Keras's transformations; Keras's own layer on torch also adds its brightness change
at every step, in place (an aliasing bug of its torch backend), so it is compared with Keras's sub-layers
applied as RandAugment means them to be."""
import random

import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_config_against_keras

AUGMIX = [
    ("default", lambda L: L.AugMix(seed=3)),
    ("few_ops", lambda L: L.AugMix(num_chains=2, chain_depth=2, factor=0.5, alpha=0.5, all_ops=False, seed=4)),
    ("unit_range", lambda L: L.AugMix(value_range=(0, 1), factor=(0.1, 0.4), interpolation="nearest", seed=5)),
]


@pytest.mark.parametrize("factory", [pytest.param(c[1], id=c[0], marks=() if c[0] == "default" else pytest.mark.slow)
                                     for c in AUGMIX])
def test_augmix_matches_keras_on_batches(keras, factory):
    scale = 1 if factory(E).value_range == (0, 1) else 255
    x = (np.random.default_rng(0).uniform(0, 1, size=(3, 12, 10, 3)) * scale).astype("float32")
    e, k = factory(E), factory(keras.layers)
    for i, training in enumerate((True, False, True, True)):
        random.seed(100 + i)
        a = e(torch.tensor(x), training=training)
        random.seed(100 + i)
        b = k(torch.tensor(x), training=training)
        np.testing.assert_allclose(a.numpy(), np.asarray(b.detach()), atol=1e-3 * scale, rtol=1e-5)
        if not training:
            np.testing.assert_array_equal(a.numpy(), x)


@pytest.mark.parametrize("kwargs", [{"seed": 1}, {"num_ops": 3, "factor": (0.2, 0.7), "value_range": (0, 1),
                                                  "seed": 2}], ids=["default", "three_ops"])
def test_rand_augment_picks_and_applies_keras_transformations(keras, kwargs):
    scale = 1 if kwargs.get("value_range") == (0, 1) else 255
    x = torch.tensor((np.random.default_rng(1).uniform(0, 1, size=(3, 12, 10, 3)) * scale).astype("float32"))
    e, k = E.RandAugment(**kwargs), keras.layers.RandAugment(**kwargs)
    for _ in range(3):  # the generators stay in step call after call
        transformation = k.get_random_transformation(x.clone(), training=True)
        want = x.clone()
        for i in range(k.num_ops):
            name = k._AUGMENT_LAYERS[int(transformation["layer_idxes"][i])]
            want = getattr(k, name).transform_images(want.clone(), transformation["transforms"][name])
        got = e(x.clone(), training=True)
        np.testing.assert_allclose(got.numpy(), np.asarray(want), atol=1e-3 * scale, rtol=1e-5)
    np.testing.assert_array_equal(e(x, training=False).numpy(), x.numpy())


@pytest.mark.parametrize("factory", [c[1] for c in AUGMIX[:2]] + [lambda L: L.RandAugment(num_ops=3, seed=1)],
                         ids=["augmix", "augmix_few", "randaugment"])
def test_policy_configs_match_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    layer = check_config_against_keras(named, keras=keras)
    assert registry.category_of(type(layer).__name__) == "Preprocessing"


def test_policies_on_single_images_and_in_a_model():
    x = np.random.default_rng(2).uniform(0, 255, (8, 8, 3)).astype("float32")
    for layer in (E.RandAugment(seed=1), E.AugMix(seed=2)):
        out = layer(torch.tensor(x))
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    model = engine.Sequential([E.Input((8, 8, 3)), E.RandAugment(), E.AugMix(), E.Flatten(), E.Dense(2)])
    xb = np.stack([x, x])
    np.testing.assert_allclose(model.predict(xb, verbose=0), model.predict(xb, verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(xb, np.zeros((2, 2), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        E.RandAugment()(torch.zeros(4, 4))
