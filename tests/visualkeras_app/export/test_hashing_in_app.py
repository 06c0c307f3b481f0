"""Hashing and HashedCrossing in the app: made from the palette's defaults in a document, their shapes
inferred, the model built and exported as engine code (same ids); the PyTorch script and ONNX refuse
them, naming the layer (ONNX would have recorded one input's ids as constants)."""
import runpy

import numpy as np
import pytest

from visualkeras_app.document.convert import document_to_model
from visualkeras_app.document.defaults import param_spec, validate_param
from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.export import ExportError, export_model

from tests.visualkeras_app.document.helpers import node


def _document():
    doc = Document()
    with doc.batch():
        a = node(doc, "InputLayer", "a", batch_shape=[None, 1], dtype="int64")
        b = node(doc, "InputLayer", "b", batch_shape=[None, 1], dtype="int64")
        cross = node(doc, "HashedCrossing", "cross", output_mode="one_hot")
        hashed = node(doc, "Hashing", "hash", output_mode="one_hot", salt=[3, 4])
        cat = node(doc, "Concatenate", "cat")
        head = node(doc, "Dense", "head", units=2)
        doc.add_edge(Edge(a, cross, dst_port=0))
        doc.add_edge(Edge(b, cross, dst_port=1))
        doc.add_edge(Edge(a, hashed))
        doc.add_edge(Edge(cross, cat, dst_port=0))
        doc.add_edge(Edge(hashed, cat, dst_port=1))
        doc.add_edge(Edge(cat, head))
    return doc, {"cross": cross, "hash": hashed, "cat": cat, "head": head}


def _data():
    return [np.array([[0], [5], [-3], [123456789]]), np.array([[1], [1], [2], [-9]])]


def test_document_infers_builds_and_exports_engine_code(tmp_path):
    doc, ids = _document()
    r = doc.result
    assert r.problems == [], r.problems
    assert r.shapes[ids["cross"]] == (None, 16) and r.shapes[ids["hash"]] == (None, 16)
    assert r.shapes[ids["cat"]] == (None, 32) and r.total_params == 32 * 2 + 2
    model = document_to_model(doc)
    assert model.get_layer("cross").get_config()["num_bins"] == 16
    export_model(model, tmp_path / "m.py")
    rebuilt = runpy.run_path(str(tmp_path / "m.py"))["model"]
    np.testing.assert_allclose(rebuilt.predict(_data(), verbose=0), model.predict(_data(), verbose=0), atol=1e-6)
    hashed = model.get_layer("hash")(_data()[0]).numpy()
    assert hashed.shape == (4, 16) and (hashed.sum(axis=1) == 1).all()


def test_a_crossing_with_one_input_is_a_merge_problem():
    doc = Document()
    with doc.batch():
        a = node(doc, "InputLayer", "a", batch_shape=[None, 1], dtype="int64")
        cross = node(doc, "HashedCrossing", "cross")
        doc.add_edge(Edge(a, cross))
    assert any(p.kind == "merge" and p.node_id == cross for p in doc.result.problems)


@pytest.mark.parametrize("suffix,kwargs", [("m_torch.py", {"weights_format": "pt"}), ("m.onnx", {})],
                         ids=["pytorch", "onnx"])
def test_pytorch_script_and_onnx_refuse_hashing_by_name(tmp_path, suffix, kwargs):
    model = document_to_model(_document()[0])
    with pytest.raises(ExportError) as info:
        export_model(model, tmp_path / suffix, **kwargs)
    assert "'cross' (HashedCrossing)" in str(info.value), str(info.value)
    assert not (tmp_path / suffix).exists()


def test_inspector_offers_the_output_modes_and_refuses_bad_values():
    specs = {s.name: s for s in param_spec("Hashing")}
    assert specs["output_mode"].kind == "choice" and specs["output_mode"].choices == ["int", "one_hot", "multi_hot",
                                                                                      "count"]
    assert specs["num_bins"].minimum == 1 and specs["salt"].kind == "json"
    assert {s.name: s for s in param_spec("HashedCrossing")}["output_mode"].choices == ["int", "one_hot"]
    assert validate_param("HashedCrossing", "output_mode", "multi_hot")[0] is False
    ok, why = validate_param("Hashing", "mask_value", "")
    assert not ok and "string" in why
    ok, why = validate_param("Hashing", "salt", [1, 2, 3])
    assert not ok and "tuple of size 2" in why
    assert validate_param("Hashing", "salt", [1, 2]) == (True, "")
