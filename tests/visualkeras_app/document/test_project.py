"""Project files (save/open round trip, atomic writes, clear errors), opening Keras files, recovery."""
import json
import os

import numpy as np
import pytest

import engine
from visualkeras_app.document import project
from visualkeras_app.document.convert import document_to_model, model_to_document
from visualkeras_app.document.graph import Document
from visualkeras_app.document.project import (ProjectError, clear_recovery, load_project, open_any, read_recovery,
                                              recovery_path, save_project, write_recovery)
from visualkeras_app.document.templates import load_template

from tests.visualkeras_app.document.helpers import node


def weights_equal(a, b):
    for nid in a.nodes:
        wa, wb = a.nodes[nid].weights, b.nodes[nid].weights
        if (wa is None) != (wb is None):
            return False
        if wa is not None and not all(np.array_equal(x, y) for x, y in zip(wa, wb)):
            return False
    return True


def test_save_and_open_give_an_equal_document(tmp_path):
    for key in ("seed_cnn", "residual_block", "text_lstm"):
        doc = load_template(key)
        doc.move_node(next(iter(doc.nodes)), (123.0, -40.0))
        path = tmp_path / f"{key}.vkproj"
        save_project(doc, path)
        back = load_project(path)
        assert back == doc and back.training == doc.training, key
        assert not os.path.exists(project.weights_path_for(str(path)))  # no weights, no weights file


def test_the_file_holds_a_keras_model_config(tmp_path, keras):
    doc = load_template("residual_block")
    path = tmp_path / "r.vkproj"
    save_project(doc, path)
    data = json.loads(path.read_text())
    assert data["format"] == "visualkeras-project" and data["version"] == 1
    assert data["model"]["class_name"] == "Functional"
    kmodel = keras.models.model_from_json(json.dumps(data["model"]))
    assert kmodel.count_params() == doc.result.total_params
    assert [n["name"] for n in data["nodes"]] == [n.name for n in doc.nodes.values()]


def test_weights_go_beside_the_project_and_come_back(tmp_path):
    doc = model_to_document(document_to_model(load_template("seed_mlp")))
    path = tmp_path / "mlp.vkproj"
    save_project(doc, path)
    name = json.loads(path.read_text())["weights"]
    assert name.startswith("mlp.weights.") and name.endswith(".h5") and (tmp_path / name).is_file()
    back = load_project(path)
    assert back == doc and weights_equal(back, doc)
    x = np.random.default_rng(0).random((2, 100), dtype=np.float32)
    np.testing.assert_array_equal(document_to_model(back).predict(x, verbose=0),
                                  document_to_model(doc).predict(x, verbose=0))


def test_a_graph_with_problems_saves_its_raw_nodes(tmp_path):
    doc = load_template("seed_mlp")
    node(doc, "Conv2D", name="stray")
    path = tmp_path / "broken.vkproj"
    save_project(doc, path)
    data = json.loads(path.read_text())
    assert data["model"] is None and any(layer["name"] == "stray" for layer in data["graph"]["layers"])
    back = load_project(path)
    assert back == doc and [p.kind for p in back.result.problems] == ["unconnected"]


def test_saving_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "p.vkproj"
    save_project(load_template("seed_mlp"), path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(project.os, "fsync", boom)
    with pytest.raises(ProjectError, match="p.vkproj.*disk full"):
        save_project(load_template("seed_cnn"), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.vkproj"]  # no temporary file left behind


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else"}', "not a visualkeras project"),
    ('{"format": "visualkeras-project", "version": 99}', "newer"),
    ('{"format": "visualkeras-project", "version": 1, "model": null}', "neither a model config nor a graph"),
    ('{"format": "visualkeras-project", "version": 1, "model": {"class_name": "Sequential", "config": '
     '{"layers": [{"class_name": "Lambda", "config": {}}]}}}', "Lambda"),
])
def test_bad_project_files_raise_one_error_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "bad.vkproj"
    path.write_text(content)
    with pytest.raises(ProjectError) as err:
        load_project(path)
    assert "bad.vkproj" in str(err.value) and fragment in str(err.value)


def test_missing_weights_file_is_named(tmp_path):
    doc = model_to_document(document_to_model(load_template("seed_mlp")))
    path = tmp_path / "w.vkproj"
    save_project(doc, path)
    name = json.loads(path.read_text())["weights"]
    os.remove(tmp_path / name)
    with pytest.raises(ProjectError, match=f"{name} is missing"):
        load_project(path)


def test_hand_edited_edges_fall_back_to_the_model_graph(tmp_path):
    doc = load_template("seed_cnn")
    path = tmp_path / "e.vkproj"
    save_project(doc, path)
    data = json.loads(path.read_text())
    data["edges"] = data["edges"][:2]
    path.write_text(json.dumps(data))
    back = load_project(path)
    assert len(back.edges) == len(doc.edges) and back.result.ok
    assert {n.name: n.pos for n in back.nodes.values()} == {n.name: n.pos for n in doc.nodes.values()}


def test_open_any_reads_keras_files_made_by_keras(tmp_path, keras):
    inp = keras.Input((28, 28, 1), name="img")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    skip = keras.layers.Conv2D(4, 3, name="skip")(inp)
    x = keras.layers.Add(name="add")([x, skip])
    out = keras.layers.Dense(3, name="out")(keras.layers.Flatten(name="flat")(x))
    kmodel = keras.Model(inp, out)
    kmodel.save(tmp_path / "k.keras")
    (tmp_path / "k.json").write_text(kmodel.to_json())
    doc = open_any(tmp_path / "k.keras")
    assert doc.result.ok and doc.result.total_params == kmodel.count_params()
    kweights = {l.name: [keras.ops.convert_to_numpy(w) for w in l.weights] for l in kmodel.layers}
    for n in doc.nodes.values():
        for w, kw in zip(n.weights or [], kweights[n.name]):
            np.testing.assert_array_equal(w, kw)
    as_json = open_any(tmp_path / "k.json")
    assert as_json == doc and all(n.weights is None for n in as_json.nodes.values())
    if hasattr(engine.saving, "save_model"):
        engine.saving.save_model(document_to_model(doc), tmp_path / "e.h5")
        assert open_any(tmp_path / "e.h5") == doc


def test_open_any_errors(tmp_path):
    with pytest.raises(ProjectError, match="nope.vkproj: no such file"):
        open_any(tmp_path / "nope.vkproj")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ProjectError, match="list.json.*neither"):
        open_any(tmp_path / "list.json")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ProjectError, match="junk.h5"):
        open_any(tmp_path / "junk.h5")
    path = tmp_path / "p.vkproj"
    save_project(load_template("seed_mlp"), path)
    assert open_any(path) == load_template("seed_mlp")


def test_recovery_after_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "cache"))
    assert recovery_path().startswith(str(tmp_path / "cache")) and read_recovery() is None
    doc = model_to_document(document_to_model(load_template("residual_block")))
    doc.move_node(next(iter(doc.nodes)), (500.0, 20.0))
    write_recovery(doc, source_path=str(tmp_path / "work.vkproj"))
    del doc  # the "crash": only the files remain
    restored, source = read_recovery()
    assert source == str(tmp_path / "work.vkproj")
    reference = model_to_document(document_to_model(load_template("residual_block")))
    assert restored.nodes["n1"].pos == (500.0, 20.0)
    assert [n.name for n in restored.nodes.values()] == [n.name for n in reference.nodes.values()]
    assert all(n.weights is not None for n in restored.nodes.values() if n.class_name == "Conv2D")
    clear_recovery()
    assert read_recovery() is None and os.listdir(tmp_path / "cache") == []


def test_a_corrupt_recovery_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path))
    write_recovery(Document())
    assert read_recovery()[0] == Document()
    with open(recovery_path(), "w") as f:
        f.write('{"format": "visualkeras-project", "vers')
    assert read_recovery() is None
