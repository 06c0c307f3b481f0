"""A Sequential config opened without building its model gives the document the usual way gives, and
declines whatever it cannot judge (the usual way then reads the file and gives its usual error)."""
import json

import pytest

from visualkeras_app.document import fast_open
from visualkeras_app.document.fast_open import sequential_document
from visualkeras_app.document.project import ProjectError, open_any


def _usual(path, monkeypatch):
    """``open_any`` the usual way: the engine model is built, then read."""
    with monkeypatch.context() as m:
        m.setattr(fast_open, "sequential_document", lambda data: None)
        return open_any(path)


def _config_of(doc):
    from engine.saving import serialize_model

    from visualkeras_app.document.convert import document_to_model

    return serialize_model(document_to_model(doc, name="sequential", config_only=True))


@pytest.mark.parametrize("key", ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm"])
def test_the_same_document_as_building_the_model(key, tmp_path, monkeypatch):
    from visualkeras_app.document.templates import load_template

    config = _config_of(load_template(key))
    path = tmp_path / f"{key}.json"
    path.write_text(json.dumps(config))
    fast = sequential_document(json.loads(path.read_text()))
    usual = _usual(path, monkeypatch)
    assert fast is not None and fast == usual  # ids, names, configs, positions, edges
    assert fast.result.total_params == usual.result.total_params
    assert open_any(path) == usual  # and open_any takes the fast way


def test_a_keras_made_sequential_config_opens_the_same_with_keras_parameter_count(keras, tmp_path, monkeypatch):
    L = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu", kernel_regularizer="l2"), L.BatchNormalization(),
        L.MaxPooling2D(), L.Conv2D(8, 3, padding="same"), L.Conv2D(8, 3, padding="same"), L.Dropout(0.25),
        L.Flatten(), L.Dense(32, kernel_initializer=keras.initializers.HeNormal(seed=3)), L.Dense(32),
        L.Dense(10, activation="softmax")], name="mixed")
    path = tmp_path / "mixed.json"
    path.write_text(model.to_json())
    fast = sequential_document(json.loads(path.read_text()))
    assert fast is not None and fast == _usual(path, monkeypatch)
    assert fast.result.total_params == model.count_params()


def test_recurrent_wrapped_and_normalization_layers_open_the_same(keras, tmp_path, monkeypatch):
    L = keras.layers
    stacks = {
        "rnn": [keras.Input((10,)), L.Embedding(100, 8), L.LSTM(8, return_sequences=True),
                L.Bidirectional(L.GRU(4, return_sequences=True)), L.TimeDistributed(L.Dense(3)),
                L.GlobalAveragePooling1D(), L.Dense(2)],
        "norm": [keras.Input((8, 8, 3)), L.LayerNormalization(), L.GroupNormalization(groups=3),
                 L.UnitNormalization(), L.Conv2D(6, 3), L.LayerNormalization(axis=[1, 2, 3]), L.Flatten(),
                 L.Dense(3, kernel_regularizer="l1", bias_constraint="non_neg")],
    }
    for name, stack in stacks.items():
        model = keras.Sequential(stack, name=name)
        path = tmp_path / f"{name}.json"
        path.write_text(model.to_json())
        fast = sequential_document(json.loads(path.read_text()))
        assert fast is not None and fast == _usual(path, monkeypatch), name
        assert fast.result.total_params == model.count_params()


def test_each_distinct_layer_config_is_built_once(tmp_path, monkeypatch):
    from engine.saving import serialization

    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": 4 + i % 2, "name": f"d{i}"}} for i in range(300)]
    built = []
    real = serialization.deserialize_layer
    monkeypatch.setattr(serialization, "deserialize_layer", lambda spec: built.append(spec["class_name"]) or real(spec))
    doc = sequential_document({"class_name": "Sequential", "config": {"name": "s", "layers": layers}})
    assert len(doc.nodes) == 301 and sorted(built) == ["Dense", "Dense", "InputLayer"]
    assert [n.name for n in doc.nodes.values()][:3] == ["in", "d0", "d1"]
    units = [4] + [4 + i % 2 for i in range(300)]  # the Input's 4, then each Dense's
    assert doc.result.ok and doc.result.total_params == sum(a * b + b for a, b in zip(units, units[1:]))


def _seq(*layers):
    return {"class_name": "Sequential", "config": {"name": "s", "layers": list(layers)}}


INPUT = {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}}


def test_declines_what_it_cannot_judge_and_the_usual_way_gives_the_error(tmp_path, monkeypatch):
    dense = {"class_name": "Dense", "config": {"units": 3, "name": "d"}}
    functional = {"class_name": "Functional", "config": {"name": "f", "layers": [], "input_layers": []}}
    keras2 = _seq({"class_name": "Dense", "config": {"units": 3, "name": "d", "batch_input_shape": [None, 8]}})
    nested = _seq(INPUT, {"class_name": "Sequential", "config": {"name": "inner", "layers": []}})
    same_name = _seq(INPUT, dense, dense)
    for config in (functional, keras2, nested, same_name, _seq(INPUT), [], "x"):
        assert sequential_document(config) is None
    # A shape the layer refuses: declined here, refused with the usual message by the usual way.
    bad = _seq(INPUT, {"class_name": "Reshape", "config": {"target_shape": [3, 5], "name": "r"}})
    assert sequential_document(bad) is None
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ProjectError) as usual:
        _usual(path, monkeypatch)
    with pytest.raises(ProjectError) as got:
        open_any(path)
    assert str(got.value) == str(usual.value)


def test_a_config_over_the_weight_budget_is_refused_as_before(tmp_path, monkeypatch):
    huge = _seq(INPUT, {"class_name": "Dense", "config": {"units": 4096, "name": "d"}},
                {"class_name": "Dense", "config": {"units": 4096, "name": "e"}})
    monkeypatch.setenv("VISUALKERAS_MAX_PARAMS", "1000000")
    assert sequential_document(huge) is None
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(huge))
    with pytest.raises(ProjectError, match="VISUALKERAS_MAX_PARAMS"):
        open_any(path)


def test_a_project_of_a_sequential_model_loads_the_same_either_way(tmp_path, monkeypatch):
    from visualkeras_app.document.project import load_project, save_project
    from visualkeras_app.document.templates import load_template

    doc = load_template("seed_cnn")
    first = next(iter(doc.nodes.values()))
    doc.move_node(first.id, (40.0, 60.0))  # a position of the user's, kept through the file
    path = tmp_path / "cnn.vkproj"
    save_project(doc, path)
    built = []
    real = fast_open.sequential_document
    monkeypatch.setattr(fast_open, "sequential_document", lambda data: built.append(1) or real(data))
    fast = load_project(path)
    assert built and fast == doc
    monkeypatch.setattr(fast_open, "sequential_document", lambda data: None)
    assert load_project(path) == fast


def test_a_functional_project_opens_without_drawing_weights(tmp_path, monkeypatch):
    """A project's model is built for its graph only (its weights, if any, are in its weights file): no
    initializer runs (NASNetLarge's project took 15 s drawing 89 million weights, now under a second)."""
    from engine import initializers

    from visualkeras_app.document.project import load_project, save_project
    from visualkeras_app.document.templates import load_template

    doc = load_template("residual_block")
    path = tmp_path / "res.vkproj"
    save_project(doc, path)

    def drawn(self, *args, **kwargs):
        raise AssertionError("an initializer drew weights")

    monkeypatch.setattr(initializers.GlorotUniform, "__call__", drawn)
    assert load_project(path) == doc
