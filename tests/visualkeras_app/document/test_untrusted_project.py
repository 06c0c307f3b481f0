"""Project and model files as an attacker or a crash writes them (issue 18): configs checked against
the layer's arguments and types, finite positions, training settings checked, one error type."""
import json
import math

import pytest

from visualkeras_app.document.project import ProjectError, load_project, open_any, save_project
from visualkeras_app.document.templates import load_template

INJECTION = "*[__import__('os').system('echo pwned')][:0], seed"


def saved(tmp_path, key="seed_mlp", graph=False):
    """(path, data) of a saved template; ``graph=True`` keeps the raw graph instead of the model config."""
    path = tmp_path / "p.vkproj"
    save_project(load_template(key), path)
    data = json.loads(path.read_text())
    if graph:
        layers = data["model"]["config"]["layers"]
        data["graph"] = {"layers": [{"name": spec["config"]["name"], "class_name": spec["class_name"],
                                     "config": {k: v for k, v in spec["config"].items() if k != "name"}}
                                    for spec in layers]}
        data["model"] = None
    return path, data


def write(path, data):
    path.write_text(json.dumps(data))
    return path


def graph_layer(data, name):
    return next(spec for spec in data["graph"]["layers"] if spec["name"] == name)


@pytest.mark.parametrize("graph", [False, True])
def test_an_initializer_key_that_is_code_is_refused_naming_the_layer(tmp_path, graph):
    path, data = saved(tmp_path, graph=graph)
    init = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {INJECTION: None},
            "registered_name": None}
    if graph:
        graph_layer(data, "dense")["config"]["kernel_initializer"] = init
    else:
        data["model"]["config"]["layers"][1]["config"]["kernel_initializer"] = init
    with pytest.raises(ProjectError, match=r"layer 'dense' \(Dense\).*unknown argument"):
        load_project(write(path, data))


def test_unknown_config_keys_and_classes_are_refused(tmp_path):
    path, data = saved(tmp_path, graph=True)
    graph_layer(data, "dense")["config"]["not_an_argument"] = 1
    with pytest.raises(ProjectError, match=r"layer 'dense' \(Dense\): unknown config key 'not_an_argument'"):
        load_project(write(path, data))
    path, data = saved(tmp_path, graph=True)
    graph_layer(data, "dense")["class_name"] = "os.system"
    with pytest.raises(ProjectError, match="unknown layer class"):
        load_project(write(path, data))


def test_a_batch_size_that_is_text_never_reaches_the_code(tmp_path):
    from visualkeras_app.document.codegen import generate_code

    path, data = saved(tmp_path, graph=True)
    graph_layer(data, "input_layer")["config"]["batch_shape"] = ["print('x')", 100]
    doc = load_project(write(path, data))  # a value of the wrong type: opens, with a problem listed
    assert doc.result.errors
    code = generate_code(doc)
    assert "batch_size=\"print('x')\"" in code and "batch_size=print" not in code


@pytest.mark.parametrize("dtype", ["_dynamo", "os", "float32; import os", {"module": "keras", "class_name":
                                   "DTypePolicy", "config": {"name": "_dynamo"}}])
def test_dtype_names_come_from_an_allow_list(tmp_path, dtype):
    path, data = saved(tmp_path, graph=True)
    graph_layer(data, "dense")["config"]["dtype"] = dtype
    with pytest.raises(ProjectError, match="unknown dtype"):
        load_project(write(path, data))


def test_the_engine_refuses_dtype_names_outside_the_allow_list():
    from engine import backend

    with pytest.raises(ValueError, match="Unknown dtype"):
        backend.torch_dtype("_dynamo")
    assert str(backend.torch_dtype("bfloat16")) == "torch.bfloat16"


@pytest.mark.parametrize("pos", [[math.nan, 0.0], [0.0, math.inf], [-math.inf, 1.0], [1e300, 0.0], ["1", 2], [1]])
def test_positions_must_be_finite_numbers(tmp_path, pos):
    path, data = saved(tmp_path)
    data["nodes"][1]["pos"] = pos
    with pytest.raises(ProjectError, match=r"position of layer 'dense'"):
        load_project(write(path, data))


@pytest.mark.parametrize("training", [{"seed": math.inf}, {"seed": 2**70}, {"learning_rate": math.nan},
                                      {"epochs": 10**30}, {"dataset": ["a"]}, {"loss": None}])
def test_training_settings_are_checked_when_opened(tmp_path, training):
    path, data = saved(tmp_path)
    data["training"] = training
    with pytest.raises(ProjectError, match=next(iter(training))):
        load_project(write(path, data))


@pytest.mark.parametrize("layer_config", [{"seed": math.inf}, {"rate": math.inf}, {"rate": [[[]]]}])
def test_odd_numbers_in_a_model_config_give_a_project_error(tmp_path, layer_config):
    path = tmp_path / "m.json"
    data = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
        {"module": "keras.layers", "class_name": "Dropout", "config": {"rate": 0.5, **layer_config}}]}}
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="m.json"):
        open_any(path)


def test_a_document_asking_for_billions_of_weights_is_refused_before_allocating(tmp_path, monkeypatch):
    from visualkeras_app.document.convert import ConversionError, document_to_model

    path, data = saved(tmp_path, graph=True)
    graph_layer(data, "dense")["config"]["units"] = 2**31  # 100 x 2**31 float32: 858 GB
    doc = load_project(write(path, data))
    with pytest.raises(ConversionError, match="VISUALKERAS_MAX_PARAMS"):
        document_to_model(doc)
    monkeypatch.setenv("VISUALKERAS_MAX_PARAMS", "1000")
    with pytest.raises(ConversionError, match="more than 1,000 weights"):
        document_to_model(load_template("seed_mlp"))
