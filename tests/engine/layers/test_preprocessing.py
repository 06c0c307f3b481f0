import numpy as np
import pytest
import torch

from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras


@pytest.mark.parametrize("kwargs", [dict(scale=1 / 255.0), dict(scale=1 / 127.5, offset=-1.0),
                                    dict(scale=[0.5, 2.0, -1.0], offset=[0.1, 0.0, 0.2])])
def test_rescaling_matches_keras(keras, kwargs):
    check_against_keras(lambda L: L.Rescaling(**kwargs), (2, 4, 4, 3), keras=keras)


def test_rescaling_casts_integer_images(keras):
    x = np.arange(2 * 2 * 2 * 3, dtype="uint8").reshape(2, 2, 2, 3) * 10
    e = E.Rescaling(1 / 255.0)(torch.tensor(x))
    k = keras.layers.Rescaling(1 / 255.0)(torch.tensor(x))
    assert e.dtype == torch.float32
    np.testing.assert_allclose(e.numpy(), k.detach().numpy(), rtol=1e-6)
    assert E.Rescaling(0.5)(E.Input(shape=(4, 4, 3), dtype="uint8")).shape == (None, 4, 4, 3)


@pytest.mark.parametrize("kwargs", [dict(scale=1 / 255.0), dict(scale=2, offset=-1),
                                    dict(scale=[1.0, 2.0, 3.0]),
                                    dict(scale=np.array([1.0, 2.0, 3.0], dtype="float32"), offset=0.5)])
def test_rescaling_config_matches_keras_and_round_trips(keras, kwargs):
    e = E.Rescaling(name="r", **kwargs)
    k = keras.layers.Rescaling(name="r", **kwargs)
    assert e.get_config() == k.get_config()
    clone = E.Rescaling.from_config(e.get_config())
    assert clone.get_config() == e.get_config()
    assert E.Rescaling.from_config(k.get_config()).get_config() == e.get_config()
    x = torch.rand(2, 3)
    np.testing.assert_allclose(clone(x).numpy(), e(x).numpy())
    assert registry.category_of("Rescaling") == "Core"


def test_rescaling_errors():
    with pytest.raises(ValueError, match="scale='big'"):
        E.Rescaling("big")
    with pytest.raises(ValueError, match="offset=nan"):
        E.Rescaling(1.0, offset=float("nan"))
