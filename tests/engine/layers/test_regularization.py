import numpy as np
import pytest
import torch

from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras


@pytest.mark.parametrize("factory,shape", [
    (lambda L: L.GaussianNoise(0.5), (3, 4)),
    (lambda L: L.GaussianDropout(0.3), (3, 4)),
    (lambda L: L.SpatialDropout2D(0.5), (2, 3, 3, 4)),
    (lambda L: L.ActivityRegularization(l1=0.1), (3, 4)),
])
def test_inference_is_identity_as_in_keras(keras, factory, shape):
    check_against_keras(factory, shape, keras=keras)
    x = torch.randn(shape)
    assert factory(E)(x, training=False) is x


def test_gaussian_noise_statistics():
    x = torch.full((400, 250), 3.0)
    y = E.GaussianNoise(0.2)(x, training=True)
    noise = (y - x).numpy()
    assert abs(noise.mean()) < 0.01
    assert abs(noise.std() - 0.2) < 0.005


def test_gaussian_dropout_statistics():
    x = torch.ones(400, 250)
    y = E.GaussianDropout(0.2)(x, training=True).numpy()
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01


def test_seeded_noise_is_reproducible_and_advances():
    x = torch.zeros(3, 5)
    a = E.GaussianNoise(0.1, seed=7)
    b = E.GaussianNoise(0.1, seed=7)
    first = a(x, training=True)
    np.testing.assert_array_equal(first.numpy(), b(x, training=True).numpy())
    assert not torch.equal(first, a(x, training=True))  # the generator moves on between calls


def test_spatial_dropout_drops_whole_channels():
    rate = 0.4
    x = torch.rand(64, 5, 6, 32) + 0.5  # positive everywhere, so a zero means "dropped"
    y = E.SpatialDropout2D(rate)(x, training=True)
    dropped = (y == 0)
    per_channel = dropped.flatten(1, 2)  # (batch, rows*cols, channels)
    # Each (sample, channel) feature map is either entirely dropped or entirely kept.
    assert torch.equal(per_channel.all(dim=1), per_channel.any(dim=1))
    frac = per_channel[:, 0, :].float().mean().item()
    assert abs(frac - rate) < 0.06
    kept = ~dropped
    np.testing.assert_allclose(y[kept].numpy(), (x[kept] / (1 - rate)).numpy(), rtol=1e-6)
    # Each sample draws its own mask.
    masks = per_channel[:, 0, :]
    assert len({tuple(m.tolist()) for m in masks}) > 1


def test_spatial_dropout_gradient_flows_through_kept_channels():
    x = torch.rand(4, 3, 3, 8, requires_grad=True)
    y = E.SpatialDropout2D(0.5, seed=1)(x, training=True)
    y.sum().backward()
    grad = x.grad.numpy()
    assert set(np.unique(grad)).issubset({0.0, 2.0})


def test_spatial_dropout_edges_and_errors():
    x = torch.rand(2, 3, 3, 4)
    assert torch.equal(E.SpatialDropout2D(1.0)(x, training=True), torch.zeros_like(x))
    assert E.SpatialDropout2D(0.0)(x, training=True) is x
    with pytest.raises(ValueError, match=r"rate=1.5"):
        E.SpatialDropout2D(1.5)
    with pytest.raises(ValueError, match=r"spatial_dropout2d.*4-D.*\(None, 10\)"):
        E.SpatialDropout2D(0.5)(E.Input(shape=(10,)))
    with pytest.raises(ValueError, match="channels_last"):
        E.SpatialDropout2D(0.5, data_format="channels_first")
    with pytest.raises(ValueError, match=r"stddev=2"):
        E.GaussianNoise(2)


@pytest.mark.parametrize("cls,kwargs", [
    ("GaussianNoise", dict(stddev=0.1)), ("GaussianNoise", dict(stddev=0.3, seed=4)),
    ("GaussianDropout", dict(rate=0.2)), ("SpatialDropout2D", dict(rate=0.2)),
    ("SpatialDropout2D", dict(rate=0.5, seed=3)), ("ActivityRegularization", {}),
    ("ActivityRegularization", dict(l1=0.01, l2=0.02)),
])
def test_configs_match_keras_and_round_trip(keras, cls, kwargs):
    e = getattr(E, cls)(name="reg", **kwargs)
    k = getattr(keras.layers, cls)(name="reg", **kwargs)
    assert e.get_config() == k.get_config()
    assert getattr(E, cls).from_config(e.get_config()).get_config() == e.get_config()
    assert getattr(E, cls).from_config(k.get_config()).get_config() == e.get_config()  # a Keras config loads
    assert registry.category_of(cls) == "Regularization"


def test_spatial_dropout_reads_keras2_config():
    cfg = {"name": "sd", "trainable": True, "dtype": "float32", "rate": 0.3, "noise_shape": None, "seed": None,
           "data_format": "channels_last"}
    layer = E.SpatialDropout2D.from_config(cfg)
    assert layer.rate == 0.3 and layer.name == "sd"
