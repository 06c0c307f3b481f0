"""The saving registry (register_keras_serializable, get_custom_objects, custom_object_scope,
serialize/deserialize_keras_object, layers.serialize/deserialize) and clone_model, compared with Keras 3.

A custom class loads only when the user's code registered it or passed it; a file naming a class or a
module never makes the engine import anything.
"""
import itertools
import json
import sys

import numpy as np
import pytest
import torch

import engine
from engine.saving import ModelFileError

_packages = itertools.count()


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _scale_layer(K, register_as=None):
    """The same small custom layer (a weight, a config entry) for engine or Keras; registered under
    package ``register_as`` when given."""

    class ScaleShift(K.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.shift = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="shift")

        def call(self, x):
            return x * self.factor + self.shift

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    if register_as is not None:
        ScaleShift = K.saving.register_keras_serializable(package=register_as)(ScaleShift)
    return ScaleShift


def _model(K, cls):
    x = K.Input((3,), name="x")
    return K.Model(x, K.layers.Dense(2, name="head")(cls(3.0, name="scale")(x)), name="with_custom")


def test_registered_names_and_serialized_dicts_match_keras(keras):
    package = f"EnginePkg{next(_packages)}"
    ours, theirs = _scale_layer(engine, package), _scale_layer(keras, package)
    assert engine.saving.get_registered_name(ours) == keras.saving.get_registered_name(theirs) == \
        f"{package}>ScaleShift"
    assert engine.saving.get_custom_objects()[f"{package}>ScaleShift"] is ours
    assert engine.saving.get_registered_object(f"{package}>ScaleShift") is ours
    mine = engine.saving.serialize_keras_object(ours(1.5, name="s"))
    want = keras.saving.serialize_keras_object(theirs(1.5, name="s"))
    assert {k: mine[k] for k in ("module", "class_name", "registered_name")} == \
        {k: want[k] for k in ("module", "class_name", "registered_name")}
    assert mine["config"] == want["config"]
    back = engine.saving.deserialize_keras_object(mine)
    assert type(back) is ours and back.factor == 1.5 and back.name == "s"

    @engine.saving.register_keras_serializable(package=package)
    def twice(x):
        return 2 * x

    @keras.saving.register_keras_serializable(package=package)
    def twice_k(x):
        return 2 * x

    twice_k.__name__ = "twice"
    assert engine.saving.serialize_keras_object(twice) == {
        **keras.saving.serialize_keras_object(twice_k), "config": f"{package}>twice"}
    assert engine.saving.deserialize_keras_object(engine.saving.serialize_keras_object(twice)) is twice


@pytest.mark.parametrize("value", [(1, 2), [1.5, "a"], {"a": np.arange(3.0)}, "relu", None])
def test_plain_values_serialize_as_keras(keras, value):
    mine, want = engine.saving.serialize_keras_object(value), keras.saving.serialize_keras_object(value)
    assert repr(mine) == repr(want)
    back = engine.saving.deserialize_keras_object(mine)
    if isinstance(value, dict):
        np.testing.assert_array_equal(back["a"], value["a"])
    else:
        assert back == value


def test_layers_serialize_and_deserialize_as_keras(keras):
    mine = engine.layers.serialize(engine.layers.Dense(2, activation="relu", name="d"))
    want = keras.layers.serialize(keras.layers.Dense(2, activation="relu", name="d"))
    assert {k: mine[k] for k in ("module", "class_name", "registered_name")} == \
        {k: want[k] for k in ("module", "class_name", "registered_name")}
    assert set(want["config"]) - {"quantization_config"} <= set(mine["config"])
    back = engine.layers.deserialize(want)
    assert isinstance(back, engine.layers.Dense) and back.units == 2 and back.name == "d"
    cls = _scale_layer(engine)
    with pytest.raises(ValueError, match="ScaleShift"):
        engine.layers.deserialize(engine.layers.serialize(cls(name="s")))
    again = engine.layers.deserialize(engine.layers.serialize(cls(4.0, name="s")), custom_objects={"ScaleShift": cls})
    assert type(again) is cls and again.factor == 4.0


def test_a_registered_layer_loads_in_both_directions(keras, tmp_path):
    package = f"EnginePkg{next(_packages)}"
    ours = _model(engine, _scale_layer(engine, package))
    theirs = _model(keras, _scale_layer(keras, package))
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    want = _np(theirs.predict(x, verbose=0))
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    for path in ("ours.keras", "theirs.keras"):
        loaded = engine.models.load_model(tmp_path / path)  # no custom_objects: the registry has it
        assert type(loaded.get_layer("scale")).__name__ == "ScaleShift"
        np.testing.assert_allclose(loaded.predict(x, verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(_np(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0)), want,
                               rtol=1e-6)


def test_an_unregistered_layer_loads_only_inside_a_scope_or_with_custom_objects(tmp_path):
    cls = _scale_layer(engine)
    model = _model(engine, cls)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match="ScaleShift"):
        engine.models.load_model(tmp_path / "m.keras")
    with engine.saving.custom_object_scope({"ScaleShift": cls}):
        with engine.saving.custom_object_scope({"Other": engine.layers.Dense}):  # scopes nest
            assert type(engine.models.load_model(tmp_path / "m.keras").get_layer("scale")) is cls
    with pytest.raises(ModelFileError, match="ScaleShift"):  # the scope is over
        engine.models.load_model(tmp_path / "m.keras")
    loaded = engine.models.load_model(tmp_path / "m.keras", custom_objects={"ScaleShift": cls})
    assert type(loaded.get_layer("scale")) is cls
    again = engine.Model.from_config(model.get_config(), custom_objects={"ScaleShift": cls})
    assert type(again.get_layer("scale")) is cls and again.count_params() == model.count_params()


def test_a_config_naming_a_module_or_registered_name_imports_nothing():
    """A class dict whose module and registered name point at real modules is refused; nothing imported."""
    for module in ("this", "antigravity"):  # importing either has a visible side effect
        sys.modules.pop(module, None)
        config = {"module": module, "class_name": "Dense", "registered_name": f"{module}>Dense",
                  "config": {"units": 2}}
        bad = {"module": module, "class_name": "Evil", "registered_name": f"{module}>Evil", "config": {}}
        with pytest.raises(ValueError, match="Evil"):
            engine.saving.deserialize_keras_object(bad)
        with pytest.raises(ValueError, match="Evil"):
            engine.layers.deserialize(bad)
        # A built-in class name still means the engine's own class, whatever module the dict names.
        assert isinstance(engine.layers.deserialize(config), engine.layers.Dense)
        assert module not in sys.modules


def _clone_case(K, cls):
    x = K.Input((3,), name="x")
    shared = K.layers.Dense(3, name="shared")
    a = shared(x)
    b = shared(cls(2.0, name="scale")(a))
    out = K.layers.Dense(1, name="out")(K.layers.Concatenate(name="cat")([a, b]))
    return K.Model(x, out, name="clone_me")


def test_clone_model_matches_keras(keras):
    package = f"EnginePkg{next(_packages)}"
    ours = _clone_case(engine, _scale_layer(engine, package))
    theirs = _clone_case(keras, _scale_layer(keras, package))
    c_ours, c_theirs = engine.models.clone_model(ours), keras.models.clone_model(theirs)
    assert [l.name for l in c_ours.layers] == [l.name for l in c_theirs.layers]
    assert [type(l).__name__ for l in c_ours.layers] == [type(l).__name__ for l in c_theirs.layers]
    assert c_ours.count_params() == c_theirs.count_params() == ours.count_params()
    assert [tuple(t.shape) for t in c_ours.outputs] == [tuple(t.shape) for t in c_theirs.outputs]
    assert not any(a is b for a in c_ours.weights for b in ours.weights)  # new weights
    c_ours.set_weights(ours.get_weights())
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(c_ours.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)

    # clone_function sees every layer once (the shared one too), as in Keras.
    def seen(K, model):
        names = []

        def fn(layer):
            names.append(layer.name)
            return layer.__class__.from_config(layer.get_config())

        K.models.clone_model(model, clone_function=fn)
        return sorted(names)

    assert seen(engine, ours) == seen(keras, theirs)


def test_clone_sequential_and_refuse_subclassed(keras):
    def seq(K):
        return K.Sequential([K.Input((4,)), K.layers.Dense(3, name="a"), K.layers.Dropout(0.5, name="b")])

    c_ours, c_theirs = engine.models.clone_model(seq(engine)), keras.models.clone_model(seq(keras))
    assert [l.name for l in c_ours.layers] == [l.name for l in c_theirs.layers]
    assert tuple(c_ours.output_shape) == tuple(c_theirs.output_shape)
    assert c_ours.count_params() == c_theirs.count_params()

    class Sub(engine.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed"):
        engine.models.clone_model(Sub())


def _pairwise_model(K, package):
    @K.saving.register_keras_serializable(package=package)
    class Pairwise(K.layers.Layer):
        def call(self, a, b, scale=None):
            out = K.ops.concatenate([a * b, a - b], axis=-1)
            return out if scale is None else out * scale

    x, y, s = K.Input((4,), name="x"), K.Input((4,), name="y"), K.Input((1,), name="s")
    a, b = K.layers.Dense(3, name="dx")(x), K.layers.Dense(3, name="dy")(y)
    return K.Model([x, y, s], K.layers.Dense(2, name="d")(Pairwise(name="pw")(a, b, scale=s)))


def test_a_layer_called_on_several_tensors_is_saved_and_loaded_as_keras(keras, tmp_path):
    package = f"EnginePkg{next(_packages)}"
    ours, theirs = _pairwise_model(engine, package), _pairwise_model(keras, package)
    theirs.set_weights(ours.get_weights())

    def nodes(model):  # as written to a file (Keras's config has tuples where JSON has lists)
        return json.loads(json.dumps([l["inbound_nodes"] for l in model.get_config()["layers"] if l["name"] == "pw"]))

    assert nodes(ours) == nodes(theirs)
    data = [np.random.default_rng(2).standard_normal((5, n)).astype("float32") for n in (4, 4, 1)]
    want = _np(theirs.predict(data, verbose=0))
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    for path in ("ours.keras", "theirs.keras"):
        np.testing.assert_allclose(engine.models.load_model(tmp_path / path).predict(data, verbose=0), want,
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(keras.models.load_model(tmp_path / "ours.keras").predict(data, verbose=0)), want,
                               rtol=1e-5, atol=1e-6)
    clone = engine.models.clone_model(ours)
    clone.set_weights(ours.get_weights())
    np.testing.assert_allclose(clone.predict(data, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_initializer_regularizer_constraint_deserialize_keras_configs(keras):
    cases = [("initializers", keras.initializers.HeNormal(seed=3), ["seed"]),
             ("regularizers", keras.regularizers.L1L2(0.01, 0.02), ["l1", "l2"]),
             ("constraints", keras.constraints.MaxNorm(2.0, axis=1), ["max_value", "axis"])]
    for family, theirs, keys in cases:
        config = getattr(keras, family).serialize(theirs)
        ours = getattr(engine, family).deserialize(config)
        assert type(ours).__name__ == type(theirs).__name__
        assert {k: ours.get_config()[k] for k in keys} == pytest.approx({k: theirs.get_config()[k] for k in keys})
        assert type(getattr(engine, family).deserialize(config["class_name"])).__name__ == type(theirs).__name__
    package = f"EnginePkg{next(_packages)}"

    @engine.saving.register_keras_serializable(package=package)
    class Sparsity(engine.regularizers.Regularizer):
        def __init__(self, factor=0.1):
            self.factor = factor

        def __call__(self, x):
            return self.factor * engine.ops.sum(engine.ops.abs(x))

        def get_config(self):
            return {"factor": self.factor}

    config = engine.saving.serialize_keras_object(Sparsity(0.5))
    assert config["registered_name"] == f"{package}>Sparsity"
    again = engine.regularizers.deserialize(config)
    assert type(again) is Sparsity and again.factor == 0.5
    with pytest.raises(ValueError, match="Nope"):
        engine.regularizers.deserialize({"class_name": "Nope", "config": {}, "registered_name": "x>Nope"})


def _compiled_with_custom_losses(K, package):
    @K.saving.register_keras_serializable(package=package)
    def abs_loss(y_true, y_pred):
        return K.ops.mean(K.ops.abs(y_true - y_pred), axis=-1)

    @K.saving.register_keras_serializable(package=package)
    class SquareLoss(K.losses.Loss):
        def call(self, y_true, y_pred):
            return K.ops.mean(K.ops.square(y_true - y_pred), axis=-1)

    x = K.Input((3,), name="x")
    model = K.Model(x, [K.layers.Dense(1, name="a")(x), K.layers.Dense(1, name="b")(x)])
    model.compile(optimizer="sgd", loss=[abs_loss, SquareLoss()])
    return model


def test_registered_losses_come_back_when_a_compiled_model_loads(keras, tmp_path):
    package = f"EnginePkg{next(_packages)}"
    ours, theirs = _compiled_with_custom_losses(engine, package), _compiled_with_custom_losses(keras, package)
    theirs.set_weights(ours.get_weights())
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    x = np.random.default_rng(3).random((8, 3)).astype("float32")
    y = [np.ones((8, 1), "float32"), np.zeros((8, 1), "float32")]
    want = theirs.evaluate(x, y, verbose=0)
    for path in ("ours.keras", "theirs.keras"):
        loaded = engine.models.load_model(tmp_path / path)  # compiled, with the user's registered losses
        np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), want, rtol=1e-5)
