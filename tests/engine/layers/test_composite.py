"""Pipeline, Wrapper and InputSpec against Keras: outputs (seeded augmentation inside a Pipeline), configs
both ways, models and files; Wrapper as a base class; InputSpec's config and checks."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers.input_spec import assert_input_compatibility


def _pipeline(L):
    return L.Pipeline([L.RandomFlip(seed=1, name="flip"), L.RandomRotation(0.2, seed=2, name="rotate"),
                       L.Rescaling(1 / 255, name="scale")], name="pp")


def test_pipeline_matches_keras_in_training_and_inference(keras):
    x = np.random.default_rng(0).uniform(0, 255, (3, 8, 8, 3)).astype("float32")
    e, k = _pipeline(E), _pipeline(keras.layers)
    assert e.get_config() == k.get_config()
    for kwargs in ({}, {"training": True}, {"training": False}):  # called directly it augments, as Keras's
        np.testing.assert_allclose(e(torch.tensor(x), **kwargs).numpy(),
                                   np.asarray(k(torch.tensor(x), **kwargs).detach()), atol=1e-5)
    np.testing.assert_allclose(e(torch.tensor(x), training=False).numpy(), x / 255, atol=1e-6)
    again = E.Pipeline.from_config(k.get_config())
    assert [type(layer).__name__ for layer in again.layers] == ["RandomFlip", "RandomRotation", "Rescaling"]
    assert keras.layers.Pipeline.from_config(e.get_config()).get_config() == _pipeline(keras.layers).get_config()


def test_pipeline_weights_shapes_and_a_model(keras, tmp_path):
    def build(lib):
        inp = lib.Input((6, 6, 3))
        pipe = lib.layers.Pipeline([lib.layers.Rescaling(0.5), lib.layers.Conv2D(2, 3, name="conv")], name="pipe")
        return lib.Model(inp, lib.layers.Dense(1)(lib.layers.Flatten()(pipe(inp))))

    k = build(keras)
    e = build(engine)
    assert e.output_shape == k.output_shape == (None, 1)
    pipe = e.get_layer("pipe")
    assert [tuple(w.shape) for w in pipe.weights] == [(3, 3, 3, 2), (2,)]
    assert pipe.compute_output_shape((None, 6, 6, 3)) == (None, 4, 4, 2)
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 3)).astype("float32")
    k.save(str(tmp_path / "k.keras"))
    loaded = engine.models.load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)
    loaded.save(str(tmp_path / "e.keras"))
    back = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(back.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)


def test_pipeline_refuses_what_is_not_a_list_of_layers():
    with pytest.raises(ValueError, match="list of layers"):
        E.Pipeline([E.Dense(2), "relu"])
    with pytest.raises(ValueError, match="`layers` key"):
        E.Pipeline.from_config({"name": "p"})


class Doubling(E.Wrapper):
    def call(self, inputs):
        return 2 * self.layer(inputs)


def test_wrapper_is_keras_base_class(keras):
    w = Doubling(E.Dense(3, name="inner"), name="doubling")
    x = torch.ones(2, 4)
    y = w(x)
    assert tuple(y.shape) == (2, 3) and len(w.weights) == 2  # the wrapped layer's weights are the wrapper's
    np.testing.assert_allclose(y.detach().numpy(), 2 * w.layer(x).detach().numpy())
    cfg = E.Wrapper(E.Dense(3, name="inner"), name="wrapper").get_config()
    k_cfg = keras.layers.Wrapper(keras.layers.Dense(3, name="inner"), name="wrapper").get_config()
    assert set(cfg) == set(k_cfg) and cfg["layer"]["class_name"] == k_cfg["layer"]["class_name"] == "Dense"
    rebuilt = E.Wrapper.from_config(k_cfg)
    assert type(rebuilt.layer) is E.Dense and rebuilt.layer.units == 3
    with pytest.raises(NotImplementedError, match="subclass it and write call"):
        E.Wrapper(E.Dense(3))(x)
    with pytest.raises(ValueError, match="isn't a supported layer type"):
        E.Wrapper("dense")


def test_input_spec_config_and_checks_match_keras(keras):
    for kwargs in ({"ndim": 3}, {"shape": (None, 4)}, {"min_ndim": 2, "axes": {-1: 8}}, {"dtype": "float32"}):
        assert E.InputSpec(**kwargs).get_config() == keras.layers.InputSpec(**kwargs).get_config()
        assert repr(E.InputSpec(**kwargs)) == repr(keras.layers.InputSpec(**kwargs))
    spec = E.InputSpec(min_ndim=2, axes={-1: 8})
    assert_input_compatibility(spec, torch.zeros(2, 8), "probe")
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 8"):
        assert_input_compatibility(spec, torch.zeros(2, 5), "probe")
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        assert_input_compatibility(spec, torch.zeros(8), "probe")
    with pytest.raises(ValueError, match="expected ndim=3"):
        assert_input_compatibility(E.InputSpec(ndim=3), torch.zeros(2, 8), "probe")
    with pytest.raises(TypeError, match="integer keys"):
        E.InputSpec(axes={"last": 3})


def test_lambda_works_in_code_as_keras_and_is_refused_in_files(keras, tmp_path):
    x = np.random.default_rng(4).standard_normal((3, 4)).astype("float32")
    fn = lambda t, k: t[:, :k] ** 2  # noqa: E731
    e, k = E.Lambda(fn, arguments={"k": 2}), keras.layers.Lambda(fn, arguments={"k": 2})
    np.testing.assert_allclose(e(torch.tensor(x)).numpy(), np.asarray(k(torch.tensor(x))), atol=1e-6)
    inp = engine.Input((4,))
    model = engine.Model(inp, E.Dense(1)(E.Lambda(lambda t: t * 2, output_shape=(4,))(inp)))
    assert model.output_shape == (None, 1)
    assert E.Lambda(fn, arguments={"k": 3}).compute_output_shape((None, 4)) == (None, 3)  # found by calling
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((3, 1), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Write a Layer subclass"):
        model.save(str(tmp_path / "m.keras"))
    with pytest.raises(ValueError, match="'Lambda' is not supported by the engine: it stores a Python function"):
        E.get("Lambda")
