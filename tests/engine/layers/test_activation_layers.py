import warnings

import numpy as np
import pytest
import torch

from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras


@pytest.mark.parametrize("kwargs", [
    {}, dict(max_value=6.0), dict(max_value=1.5), dict(negative_slope=0.1), dict(threshold=0.5),
    dict(negative_slope=0.2, threshold=0.3, max_value=1.0), dict(negative_slope=0.2, max_value=1.0),
    dict(threshold=0.4, max_value=1.0),
])
def test_relu_matches_keras(keras, kwargs):
    check_against_keras(lambda L: L.ReLU(**kwargs), (4, 3, 5), keras=keras)


@pytest.mark.parametrize("kwargs", [{}, dict(negative_slope=0.05)])
def test_leaky_relu_matches_keras(keras, kwargs):
    check_against_keras(lambda L: L.LeakyReLU(**kwargs), (4, 6), keras=keras)


def test_leaky_relu_default_slope_and_keras2_alpha():
    x = torch.tensor([-2.0, 3.0])
    np.testing.assert_allclose(E.LeakyReLU()(x).numpy(), [-0.6, 3.0], rtol=1e-6)
    with pytest.warns(UserWarning, match="alpha"):
        layer = E.LeakyReLU(alpha=0.1)
    np.testing.assert_allclose(layer(x).numpy(), [-0.2, 3.0], rtol=1e-6)
    assert layer.get_config()["negative_slope"] == 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = E.LeakyReLU.from_config({"name": "lr", "trainable": True, "dtype": "float32", "alpha": 0.2})
    assert legacy.negative_slope == 0.2


@pytest.mark.parametrize("shape,shared_axes", [((3, 5), None), ((2, 4, 4, 3), None), ((2, 4, 4, 3), [1, 2]),
                                               ((2, 5, 3), 1)])
def test_prelu_matches_keras(keras, shape, shared_axes):
    layer = check_against_keras(lambda L: L.PReLU(shared_axes=shared_axes), shape, keras=keras)
    if shared_axes == [1, 2]:
        assert layer.alpha.shape == (1, 1, 3)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_matches_keras(keras, alpha):
    check_against_keras(lambda L: L.ELU(alpha=alpha), (3, 7), keras=keras)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2)])
def test_softmax_matches_keras(keras, axis):
    check_against_keras(lambda L: L.Softmax(axis=axis), (2, 3, 4), keras=keras)


def test_softmax_mask_matches_keras(keras):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    e = E.Softmax()(torch.tensor(x), mask=torch.tensor(mask)).numpy()
    k = keras.layers.Softmax()(torch.tensor(x), mask=torch.tensor(mask)).detach().numpy()
    np.testing.assert_allclose(e, k, rtol=1e-6, atol=1e-7)
    assert np.all(e[~mask] == 0)


def test_argument_validation():
    with pytest.raises(ValueError, match=r"max_value=-1"):
        E.ReLU(max_value=-1)
    with pytest.raises(ValueError, match=r"negative_slope=-0.1"):
        E.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match=r"negative_slope=None"):
        E.LeakyReLU(negative_slope=None)
    with pytest.raises(ValueError, match="shared_axes"):
        E.PReLU(shared_axes=[0])
    with pytest.raises(ValueError, match="axis"):
        E.Softmax(axis="last")


def test_shape_errors():
    prelu = E.PReLU()
    prelu(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"PReLU layer 'p_re_lu'.*\(None, 5\)"):
        prelu.compute_output_shape((None, 5))
    with pytest.raises(ValueError, match=r"p_re_lu_1.*known"):
        E.PReLU()(E.Input(shape=(None, 3)))
    assert E.PReLU(shared_axes=1)(E.Input(shape=(None, 3))).shape == (None, None, 3)
    with pytest.raises(ValueError, match=r"Softmax layer.*axis 3.*\(None, 4\)"):
        E.Softmax(axis=3).compute_output_shape((None, 4))


@pytest.mark.parametrize("cls,kwargs", [
    ("ReLU", {}), ("ReLU", dict(max_value=6, negative_slope=0.1, threshold=0.5)),
    ("LeakyReLU", {}), ("LeakyReLU", dict(negative_slope=0.01)),
    ("PReLU", {}), ("PReLU", dict(shared_axes=[1, 2], alpha_initializer="ones", alpha_constraint="non_neg")),
    ("ELU", {}), ("ELU", dict(alpha=0.5)), ("Softmax", {}), ("Softmax", dict(axis=(1, 2))),
])
def test_configs_match_keras_and_round_trip(keras, cls, kwargs):
    e = getattr(E, cls)(name="act", **kwargs)
    k = getattr(keras.layers, cls)(name="act", **kwargs)
    assert e.get_config() == k.get_config()
    assert getattr(E, cls).from_config(e.get_config()).get_config() == e.get_config()
    assert getattr(E, cls).from_config(k.get_config()).get_config() == e.get_config()  # a Keras config loads
    assert registry.category_of(cls) == "Activation"
