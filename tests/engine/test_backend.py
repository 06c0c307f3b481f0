"""engine.backend: data format, epsilon, seeds, device choice; initializers' Keras defaults."""
import numpy as np
import pytest
import torch

import engine
from engine import backend, initializers


def test_keras_defaults():
    assert backend.image_data_format() == "channels_last"
    assert backend.epsilon() == 1e-7
    assert backend.floatx() == "float32"
    with pytest.raises(ValueError, match="channels_last"):
        backend.set_image_data_format("channels_first")


def test_set_seed_makes_weights_reproducible():
    backend.set_seed(7)
    a = engine.layers.Dense(5)
    a.build((None, 4))
    backend.set_seed(7)
    b = engine.layers.Dense(5)
    b.build((None, 4))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


def test_set_seed_seeds_torch_as_torch_manual_seed_does():
    # On a machine with only the CPU it seeds the CPU generator alone (see backend._seed_torch).
    for seed in (0, 7, 2**40 + 3):
        backend.set_seed(seed)
        ours = (torch.rand(4), torch.randint(0, 1000, (3,)), torch.initial_seed())
        torch.manual_seed(seed)
        theirs = (torch.rand(4), torch.randint(0, 1000, (3,)), torch.initial_seed())
        torch.testing.assert_close(ours[0], theirs[0], rtol=0, atol=0)
        assert ours[1].tolist() == theirs[1].tolist() and ours[2] == theirs[2] == seed


def test_device_choice_and_override():
    assert backend.get_device().type in ("cpu", "cuda", "mps")
    backend.set_device("cpu")
    try:
        assert backend.get_device() == torch.device("cpu")
        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="CUDA is not available"):
                backend.set_device("cuda")
    finally:
        backend.set_device(None)
    assert "cpu" in backend.available_devices()


def test_unique_names_and_clear_session():
    assert engine.layers.Dense(1).name == "dense"
    assert engine.layers.Dense(1).name == "dense_1"
    backend.clear_session()
    assert engine.layers.Dense(1).name == "dense"


@pytest.mark.parametrize("name,shape,expected_std", [
    ("glorot_uniform", (300, 200), np.sqrt(2.0 / 500)),
    ("he_normal", (400, 100), np.sqrt(2.0 / 400)),
    ("lecun_uniform", (400, 100), np.sqrt(1.0 / 400)),
])
def test_variance_scaling_statistics(name, shape, expected_std):
    w = initializers.get(name)(shape).numpy()
    assert w.std() == pytest.approx(expected_std, rel=0.05)
    assert abs(w.mean()) < 0.01


def test_orthogonal_is_orthogonal_and_embedding_default_range():
    q = initializers.get("orthogonal")((6, 6)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-5)
    u = initializers.get("uniform")((1000,)).numpy()
    assert u.min() >= -0.05 and u.max() <= 0.05


def test_initializer_config_round_trip_and_errors():
    init = initializers.RandomNormal(stddev=0.2, seed=3)
    again = initializers.get({"class_name": "RandomNormal", "config": init.get_config()})
    np.testing.assert_array_equal(init((3, 3)).numpy(), again((3, 3)).numpy())
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_uniformm")
