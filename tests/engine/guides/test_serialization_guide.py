"""keras.io "Save, serialize, and export models" (Keras 3): a model with a registered custom layer and a
registered custom activation function saved to .keras and loaded back, on the engine and on Keras 3 in
the same test; files go both ways with the same predictions; unregistered objects load through
custom_objects or a custom_object_scope."""
import json

import numpy as np
import torch

import engine


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _guide_model(K, register=True):
    def custom_fn(x):
        return x**2

    class CustomLayer(K.layers.Layer):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    if register:
        custom_fn = K.saving.register_keras_serializable(package="my_package", name="custom_fn")(custom_fn)
        CustomLayer = K.saving.register_keras_serializable(package="MyLayers")(CustomLayer)
    inputs = K.Input(shape=(4,))
    mid = CustomLayer(0.5)(inputs)
    outputs = K.layers.Dense(1, activation=custom_fn)(mid)
    model = K.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    return model, {"CustomLayer": CustomLayer, "custom_fn": custom_fn}


def test_registered_custom_objects_save_and_load_both_ways(keras, tmp_path):
    (ours, _), (theirs, _) = _guide_model(engine), _guide_model(keras)
    theirs.set_weights(ours.get_weights())

    def layer_entries(model):
        cfg = json.loads(json.dumps(model.get_config()))
        return [{k: l[k] for k in ("class_name", "registered_name")} | {"activation": l["config"].get("activation"),
                                                                       "factor": l["config"].get("factor")}
                for l in cfg["layers"]]

    assert layer_entries(ours) == layer_entries(theirs)
    x = np.random.default_rng(0).random((6, 4)).astype("float32")
    want = _np(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), want, rtol=1e-6)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    for path in ("ours.keras", "theirs.keras"):
        np.testing.assert_allclose(engine.models.load_model(tmp_path / path).predict(x, verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(_np(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0)), want,
                               rtol=1e-6)


def test_unregistered_objects_load_through_custom_objects_or_a_scope(keras, tmp_path):
    ours, objects = _guide_model(engine, register=False)
    theirs, their_objects = _guide_model(keras, register=False)
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(1).random((6, 4)).astype("float32")
    want = _np(theirs.predict(x, verbose=0))
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    for path in ("ours.keras", "theirs.keras"):
        loaded = engine.models.load_model(tmp_path / path, custom_objects=objects)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), want, rtol=1e-6)
        with engine.saving.custom_object_scope(objects):
            np.testing.assert_allclose(engine.models.load_model(tmp_path / path).predict(x, verbose=0), want,
                                       rtol=1e-6)
    with keras.saving.custom_object_scope(their_objects):
        np.testing.assert_allclose(_np(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0)),
                                   want, rtol=1e-6)
