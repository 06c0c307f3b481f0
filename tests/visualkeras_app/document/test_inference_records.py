"""Issue 15: the document is data plus signals; its ShapeInference listens to its edits, owns the cache and
keeps one record per node (shape, parameters, problems, dtype)."""
import ast
import pathlib

from visualkeras_app.document import graph
from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.document.inference import NodeRecord, ShapeInference

from tests.visualkeras_app.document.helpers import chain, node


def test_each_node_has_one_record_with_shape_params_dtype_and_problems():
    doc, (i, d, h) = chain(("InputLayer", {"batch_shape": [None, 8]}), ("Dense", {"units": 3}),
                           ("Dense", {"units": 2, "dtype": "mixed_float16"}))
    record = doc.result.record(d)
    assert isinstance(record, NodeRecord)
    assert (record.shape, record.shape_text, record.params, record.param_text) == ((None, 3), "(None, 3)", 27, "27")
    assert (record.trainable, record.non_trainable, record.weight_shapes) == (27, 0, [(8, 3), (3,)])
    assert record.dtype == "float32" and doc.result.record(h).dtype == "float16"
    assert record.problems == [] and record.weights_ok is None
    # The per-node views are made from the records.
    assert doc.result.params == {i: 0, d: 27, h: 8} and doc.result.dtypes[h] == "float16"


def test_a_broken_node_s_record_holds_its_problem_and_unknown_counts():
    doc, (i, f) = chain(("InputLayer", {"batch_shape": [None, 8]}), ("Conv2D", {"filters": 4}))
    record = doc.result.record(f)
    assert not record.known and record.shape_text == "?" and record.param_text == "?"
    assert [p.kind for p in record.problems] == ["shape"] and doc.result.node_problems == {f: record.problems}
    assert doc.result.record("no-such-node").shape_text == "?"


def test_the_document_s_inference_runs_once_per_edit_or_batch_and_announces_it():
    doc = Document()
    assert isinstance(doc.inference, ShapeInference) and doc.result is None
    seen = []
    doc.inferred.connect(seen.append)
    with doc.batch():
        a = node(doc, "InputLayer", batch_shape=[None, 4])
        b = node(doc, "Dense", units=2)
        doc.add_edge(Edge(a, b))
    assert len(seen) == 1 and seen[0] is doc.result is doc.inference.result
    assert doc.result.record(b).shape == (None, 2)
    doc.set_param(b, "units", 5)
    assert len(seen) == 2 and doc.result.record(b).shape == (None, 5)
    cache = doc.inference.cache
    assert cache.entries, "the probes are cached by the document's own inference"
    doc.inference.forget()
    assert not doc.inference.cache.entries


def test_graph_py_never_imports_inference():
    tree = ast.parse(pathlib.Path(graph.__file__).read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.endswith("inference")]
