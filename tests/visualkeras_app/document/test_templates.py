"""The shipped templates: listed, loadable, laid out, the models the issue asks for."""
import os

import pytest

from visualkeras_app import resources_path
from visualkeras_app.document.templates import list_templates, load_template, templates_dir

KEYS = ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"]


def classes(doc):
    return [n.class_name for n in doc.nodes.values()]


def test_resources_are_found_from_the_package():
    assert os.path.isdir(resources_path())
    assert templates_dir() == os.path.join(resources_path(), "templates")
    assert sorted(f[:-5] for f in os.listdir(templates_dir()) if f.endswith(".json")) == sorted(KEYS)


def test_list_and_load_every_template_without_problems():
    items = list_templates()
    assert [t.key for t in items] == KEYS
    assert all(t.title and t.description for t in items)
    for t in items:
        doc = load_template(t.key)
        assert doc.result is not None and doc.result.problems == [], t.key
        assert len({n.pos for n in doc.nodes.values()}) == len(doc.nodes), t.key  # laid out
        assert doc.training.get("loss"), t.key


def test_the_models_are_the_ones_asked_for():
    fast = classes(load_template("mnist_fast_cnn"))
    # A strided Conv, pooling before BatchNorm and ReLU: the per-pixel work on 14x14 and 7x7 images.
    assert fast[1:12] == ["Conv2D", "BatchNormalization", "ReLU", "Conv2D", "MaxPooling2D", "BatchNormalization",
                          "ReLU", "Conv2D", "BatchNormalization", "ReLU", "Flatten"]
    doc = load_template("mnist_fast_cnn")
    first = next(n for n in doc.nodes.values() if n.class_name == "Conv2D")
    assert tuple(first.config["strides"]) == (2, 2) and doc.result.shape_text[first.id] == "(None, 14, 14, 16)"
    last = list(doc.nodes.values())[-1]
    assert last.class_name == "Dense" and last.config["units"] == 10 and last.config["activation"] == "softmax"
    assert doc.result.shape_text[last.id] == "(None, 10)"
    assert classes(load_template("text_lstm"))[1:3] == ["Embedding", "LSTM"]
    res = load_template("residual_block")
    add = next(n for n in res.nodes.values() if n.class_name == "Add")
    assert len(res.inputs_of(add.id)) == 2
    cnn = load_template("seed_cnn")
    assert cnn.result.total_params == 693_962  # the Keras tutorial's count
    assert load_template("seed_mlp").result.total_params == 100 * 64 + 64 + 64 * 10 + 10


def test_unknown_template_lists_the_keys():
    with pytest.raises(KeyError, match="seed_mlp"):
        load_template("nope")
    with pytest.raises(KeyError):
        load_template("../templates/seed_mlp")


def test_templates_are_independent_documents():
    a, b = load_template("seed_mlp"), load_template("seed_mlp")
    assert a == b
    a.rename(next(iter(a.nodes)), "changed")
    assert a != b
