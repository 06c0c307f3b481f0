"""Issue 15: objects own their persistence, as in Keras. A layer writes and reads its own variables
(``save_own_variables``/``load_own_variables``) and names its children (``saveable_children``); a model
class owns its config and the header a file names it by; engine.saving walks them through these."""
import numpy as np
import pytest

from engine import layers
from engine.models import Model, Sequential
from engine.saving import serialize_model


def _dense(units=3, inputs=4):
    layer = layers.Dense(units, name="d")
    layer.build((None, inputs))
    return layer


def test_a_layer_saves_and_loads_its_own_variables_as_keras_does(keras):
    ours, theirs = _dense(), keras.layers.Dense(3)
    theirs.build((None, 4))
    store, keras_store = {}, {}
    ours.save_own_variables(store)
    theirs.save_own_variables(keras_store)
    assert list(store) == list(keras_store) == ["0", "1"]
    assert [np.shape(v) for v in store.values()] == [np.shape(v) for v in keras_store.values()]
    other = _dense()
    other.load_own_variables({k: np.asarray(v) for k, v in keras_store.items()})
    np.testing.assert_array_equal(other.get_weights()[0], np.asarray(keras_store["0"]))


def test_load_own_variables_refuses_a_store_that_does_not_fit_before_changing_anything():
    layer = _dense()
    before = layer.get_weights()
    with pytest.raises(ValueError, match="expects 2 variables, the store has 1"):
        layer.load_own_variables({"0": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"has shape \(3,\), the stored value \(5,\)"):
        layer.load_own_variables({"0": np.ones((4, 3)), "1": np.zeros(5)})
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)  # the first, fitting value was not written either


def test_own_variables_put_trainable_weights_first():
    bn = layers.BatchNormalization()
    bn.build((None, 2))
    assert [v.path.split("/")[-1] for v in bn.own_variables()] == ["gamma", "beta", "moving_mean",
                                                                  "moving_variance"]


def test_saveable_children_name_the_weights_tree_paths():
    rnn = layers.Bidirectional(layers.LSTM(2))
    rnn.build((None, 3, 4))
    assert [name for name, _ in rnn.saveable_children()] == ["backward_layer", "forward_layer"]
    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    assert [name for name, _ in model.saveable_children()] == ["layers"]


def test_a_functional_subclass_with_its_own_get_config_is_written_as_keras_functional():
    class Custom(Model):
        def get_config(self):
            return {"units": 3}

    x = layers.Input((4,))
    model = Custom(x, layers.Dense(3)(x))
    out = serialize_model(model)
    assert (out["module"], out["class_name"], out["registered_name"]) == \
        ("keras.src.models.functional", "Functional", "Functional")
    assert "input_layers" in out["config"]


def test_a_subclassed_model_has_no_config_and_says_what_to_do():
    class Net(Model):
        def call(self, x):
            return x

    with pytest.raises(NotImplementedError, match="save_weights"):
        serialize_model(Net())
