"""Loading is linear in the number of layers, whatever order a file lists them in: a functional chain
listed backwards (each layer before the one it reads) loads, and gives the same model as the file in
order; a long Sequential adds each layer in constant time."""
import json

import numpy as np
import pytest

import engine


def _chain_config(n, reverse):
    def tensor(name):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [name, 0, 0]}}

    layers = [{"class_name": "InputLayer", "name": "in", "config": {"batch_shape": [None, 4], "name": "in"},
               "inbound_nodes": []}]
    prev = "in"
    for i in range(n):
        layers.append({"class_name": "Dense", "name": f"d{i}",
                       "config": {"units": 4, "name": f"d{i}", "kernel_initializer": "ones"},
                       "inbound_nodes": [{"args": [tensor(prev)], "kwargs": {}}]})
        prev = f"d{i}"
    if reverse:
        layers = layers[::-1]
    return {"class_name": "Functional", "config": {"name": "chain", "layers": layers,
            "input_layers": [["in", 0, 0]], "output_layers": [[prev, 0, 0]]}}


def _load(tmp_path, cfg, name):
    path = tmp_path / name
    path.write_text(json.dumps(cfg))
    return engine.models.load_model(str(path))


def test_a_chain_listed_backwards_loads_as_the_chain_in_order(tmp_path):
    forward = _load(tmp_path, _chain_config(60, reverse=False), "f.json")
    backward = _load(tmp_path, _chain_config(60, reverse=True), "b.json")
    assert [l.name for l in backward.layers] == [l.name for l in forward.layers]
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32") / 4
    np.testing.assert_allclose(backward.predict(x, verbose=0), forward.predict(x, verbose=0), rtol=1e-6)


def test_a_layer_waiting_on_a_missing_tensor_is_named(tmp_path):
    cfg = _chain_config(5, reverse=True)
    cfg["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["nowhere", 0, 0]
    with pytest.raises(Exception, match="d2"):
        _load(tmp_path, cfg, "broken.json")


@pytest.mark.slow
def test_a_3000_layer_chain_listed_backwards_opens(tmp_path):
    # Was a pass over every layer per layer made (quadratic: 70 s), and before that a RecursionError.
    model = _load(tmp_path, _chain_config(3000, reverse=True), "long.json")
    assert len(model.layers) == 3001 and model.layers[-1].name == "d2999"


@pytest.mark.slow
def test_a_20000_layer_sequential_loads(tmp_path):
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": 2, "name": f"d{i}"}} for i in range(20000)]
    model = _load(tmp_path, {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}, "seq.json")
    assert len(model.layers) == 20000 and model.count_params() == 20000 * 6
