"""The base Layer's build API: ``build_from_config`` as Keras 3 has it, and ``shapes_only()``, the
context in which layers are built for their shapes alone (shape inference, writing a config)."""
import numpy as np
import torch

import engine
from engine.layers.layer import shapes_only


def test_build_from_config_builds_as_keras_does(keras):
    for lib in (engine, keras):
        layer = lib.layers.Dense(4)
        layer.build_from_config({"input_shape": (None, 3)})
        assert layer.built
        assert [tuple(w.shape) for w in layer.weights] == [(3, 4), (4,)], lib.__name__
    # Nothing to build from: stays unbuilt; an engine layer already built is left as it is.
    layer = engine.layers.Dense(4)
    layer.build_from_config(None)
    assert not layer.built
    layer.build_from_config({"input_shape": (None, 3)})
    layer.build_from_config({"input_shape": (None, 5)})
    assert [tuple(w.shape) for w in layer.weights] == [(3, 4), (4,)]


def test_shapes_only_builds_zeros_on_meta_without_random_draws():
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    with shapes_only():
        emb = engine.layers.Embedding(10000, 64)
        emb.build_from_config({"input_shape": (None, 5)})
        lstm = engine.layers.LSTM(8)  # an Orthogonal recurrent kernel: no QR decomposition is run
        lstm.build_from_config({"input_shape": (None, 7, 3)})
    assert torch.equal(torch.random.get_rng_state(), state)
    for w in emb.weights + lstm.weights:
        assert w.device.type == "meta"
    assert emb.count_params() == 640000 and lstm.count_params() == 4 * 8 * (3 + 8 + 1)
    # Outside the context layers get real, initialized weights again.
    dense = engine.layers.Dense(3)
    dense.build_from_config({"input_shape": (None, 2)})
    assert dense.kernel.device.type == "cpu" and np.abs(dense.get_weights()[0]).sum() > 0


def test_a_numpy_scalar_input_keeps_its_shape_as_in_keras(keras):
    # np.ascontiguousarray turns a 0-d array into shape (1,); a layer called on a scalar gave (1,).
    for value in (np.int64(7), np.float32(1.5), np.array(2.0)):
        assert tuple(engine.layers.Identity()(value).shape) == ()
        assert tuple(keras.layers.Identity()(value).shape) == ()
    assert tuple(engine.layers.Identity()(np.ones((2, 3))).shape) == (2, 3)
