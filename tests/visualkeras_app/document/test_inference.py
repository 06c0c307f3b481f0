"""Shape inference: shapes and params as the engine (and Keras) compute them, problems pinned where they
are, and incremental re-inference."""
import json

import numpy as np
import pytest

from visualkeras_app.document import inference
from visualkeras_app.document.convert import document_to_model
from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.document.inference import Problem, infer
from visualkeras_app.document.templates import list_templates, load_template

from tests.visualkeras_app.document.helpers import chain, node

MNIST = [None, 28, 28, 1]


def kinds(result):
    return sorted(p.kind for p in result.problems)


def test_conv_chain_shapes_params_and_edge_labels():
    doc, (i, c, f, d) = chain(("InputLayer", {"batch_shape": MNIST}), ("Conv2D", {"filters": 32}), "Flatten",
                              ("Dense", {"units": 10}))
    r = doc.result
    assert r.shape_text == {i: "(None, 28, 28, 1)", c: "(None, 26, 26, 32)", f: "(None, 21632)", d: "(None, 10)"}
    assert r.shapes[c] == (None, 26, 26, 32)
    assert r.params == {i: 0, c: 320, f: 0, d: 216330}
    assert r.total_params == r.trainable_params == 216650 and r.non_trainable_params == 0
    assert r.edge_shape_text[Edge(c, f)] == "(None, 26, 26, 32)"
    assert r.order == [i, c, f, d]
    assert r.problems == [] and r.ok


def test_params_and_shapes_match_the_engine_model_for_every_template():
    for t in list_templates():
        doc = load_template(t.key)
        model = document_to_model(doc)
        r = doc.result
        assert r.total_params == model.count_params(), t.key
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert r.trainable_params == trainable, t.key
        by_name = {n.name: nid for nid, n in doc.nodes.items()}
        for layer in model.layers:
            assert r.shapes[by_name[layer.name]] == tuple(layer.output.shape), (t.key, layer.name)


def test_shapes_and_params_match_real_keras(keras):
    for key in ("seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"):
        doc = load_template(key)
        kmodel = keras.models.model_from_json(document_to_model(doc).to_json())
        by_name = {n.name: nid for nid, n in doc.nodes.items()}
        assert doc.result.total_params == kmodel.count_params(), key
        for layer in kmodel.layers:
            assert doc.result.shapes[by_name[layer.name]] == tuple(layer.output.shape), (key, layer.name)
            assert doc.result.params[by_name[layer.name]] == layer.count_params(), (key, layer.name)


def test_layer_error_is_a_shape_problem_on_the_node_and_its_edge_and_downstream_is_quiet():
    doc, (i, c, d) = chain(("InputLayer", {"batch_shape": [None, 10]}), "Conv2D", "Dense")
    r = doc.result
    assert kinds(r) == ["shape"]
    p = r.problems[0]
    assert p.node_id == c and p.edge == Edge(i, c) and p.severity == "error"
    assert "conv" in p.message.lower() and "vk_probe" not in p.message
    assert r.edge_problems[Edge(i, c)] == [p] and r.node_problems == {c: [p]}
    assert r.shapes[c] is None and r.shapes[d] is None
    assert r.shape_text[d] == "?" and r.param_text[d] == "?" and r.edge_shape_text[Edge(c, d)] == "?"
    assert not r.ok


def test_error_marker_appears_and_clears_with_an_edit():
    doc, (i, d, s) = chain(("InputLayer", {"batch_shape": [None, 8]}), "Dense", "Softmax")
    assert doc.result.ok
    doc.set_param(d, "units", -3)
    assert kinds(doc.result) == ["config"]
    assert "units" in doc.result.problems[0].message and doc.result.problems[0].node_id == d
    doc.set_param(d, "units", 5)
    assert doc.result.problems == [] and doc.result.shapes[s] == (None, 5)


def test_merge_problems_mismatch_and_single_input():
    doc = Document()
    i = node(doc, "InputLayer", batch_shape=[None, 8])
    a = node(doc, "Dense", units=4)
    b = node(doc, "Dense", units=5)
    add = node(doc, "Add")
    out = node(doc, "Dense", units=2)
    for e in (Edge(i, a), Edge(i, b), Edge(a, add, 0), Edge(add, out)):
        doc.add_edge(e)
    assert kinds(doc.result) == ["merge"]
    assert "at least two" in doc.result.problems[0].message
    doc.add_edge(Edge(b, add, 1))
    r = doc.result
    assert kinds(r) == ["merge"] and r.problems[0].node_id == add
    assert Edge(a, add, 0) in r.edge_problems and Edge(b, add, 1) in r.edge_problems
    assert r.shapes[out] is None
    doc.set_param(b, "units", 4)
    assert doc.result.ok and doc.result.shapes[out] == (None, 2)


def test_missing_input_unconnected_no_input_no_output():
    doc = Document()
    assert infer(doc).problems == []  # an empty document is not a problem
    d = node(doc, "Dense")
    assert kinds(doc.result) == ["no_input", "unconnected"]
    assert doc.result.node_problems[d][0].kind == "unconnected"
    d2 = node(doc, "Dense")
    doc.add_edge(Edge(d, d2))
    assert kinds(doc.result) == ["missing_input", "no_input"]
    assert doc.result.node_problems[d][0].kind == "missing_input" and d2 not in doc.result.node_problems
    only_input = Document()
    node(only_input, "InputLayer")
    assert kinds(only_input.result) == ["no_output", "unconnected"]


def test_dense_head_on_a_4d_tensor_is_a_shape_warning_with_the_flatten_hint():
    doc, (i, c, d) = chain(("InputLayer", {"batch_shape": MNIST}), "Conv2D", ("Dense", {"units": 10}))
    r = doc.result
    assert kinds(r) == ["shape"] and r.problems[0].severity == "warning"
    assert "Flatten" in r.problems[0].message and r.problems[0].node_id == d
    assert r.ok  # legal Keras: the model still compiles
    assert document_to_model(doc).output_shape == (None, 26, 26, 10)


def test_a_cycle_from_a_file_is_reported_not_looped_on():
    doc, (i, a, b) = chain(("InputLayer", {"batch_shape": [None, 4]}), "Dense", "Dense")
    doc.edges.append(Edge(b, a))  # the editor refuses this edit; a hand-written file could hold it
    r = infer(doc)
    assert {p.node_id for p in r.problems if p.kind == "cycle"} == {a, b}
    assert r.shapes[a] is None


def test_multi_output_layer_gives_a_list_and_ports_pick_their_tensor():
    doc = Document()
    i = node(doc, "InputLayer", batch_shape=[None, 7, 3])
    lstm = node(doc, "LSTM", units=5, return_state=True, return_sequences=True)
    d = node(doc, "Dense", units=2)
    doc.add_edge(Edge(i, lstm))
    doc.add_edge(Edge(lstm, d, 0, 1))
    r = doc.result
    assert r.shapes[lstm] == [(None, 7, 5), (None, 5), (None, 5)]
    assert r.shape_text[lstm] == "[(None, 7, 5), (None, 5), (None, 5)]"
    assert r.edge_shape_text[Edge(lstm, d, 0, 1)] == "(None, 5)" and r.shapes[d] == (None, 2)


def test_reinference_after_one_edit_probes_only_what_changed(monkeypatch):
    specs = [("InputLayer", {"batch_shape": [None, 16]})] + [("Dense", {"units": 16})] * 40
    doc, ids = chain(*specs)
    calls = []
    real = inference._probe

    def counting(*args):
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(inference, "_probe", counting)
    before = doc.result
    doc.set_param(ids[20], "units", 17)  # changes that node and the input shape of the next one
    assert len(calls) == 2
    assert doc.result.shapes[ids[21]] == (None, 16) and doc.result.params[ids[21]] == 17 * 16 + 16
    doc.set_param(ids[20], "units", 16)  # back: both answers are cached
    assert len(calls) == 2
    assert doc.result.shape_text == before.shape_text and doc.result.params == before.params
    doc.rename(ids[5], "renamed")
    assert len(calls) == 2


def test_probes_use_no_memory_and_leave_keras_automatic_names_alone():
    import engine

    doc, (i, e) = chain(("InputLayer", {"batch_shape": [None, 5], "dtype": "int32"}),
                        ("Embedding", {"input_dim": 2_000_000, "output_dim": 1000}))
    # Two billion parameters would need 8 GB on the CPU; on the meta device they need nothing.
    assert doc.result.params[e] == 2_000_000_000
    assert engine.layers.Dense(3).name == "dense"
    assert engine.layers.Embedding(3, 2).name == "embedding"


def test_weights_ok_follows_the_config():
    doc, (i, d) = chain(("InputLayer", {"batch_shape": [None, 3]}), ("Dense", {"units": 2}))
    doc.nodes[d].weights = [np.ones((3, 2), "float32"), np.zeros(2, "float32")]
    assert doc.infer().weights_ok[d] is True
    doc.set_param(d, "units", 4)
    assert doc.result.weights_ok[d] is False
    assert doc.result.weight_shapes[d] == [(3, 4), (4,)]


def test_a_config_edit_keeps_trained_weights_for_an_edit_back():
    # The weights that stop fitting are kept on the node, not used, and used again once they fit.
    doc, (i, d) = chain(("InputLayer", {"batch_shape": [None, 3]}), ("Dense", {"units": 2}))
    trained = [np.arange(6, dtype="float32").reshape(3, 2), np.ones(2, "float32")]
    doc.nodes[d].weights = trained
    doc.set_param(d, "units", 4)
    assert doc.nodes[d].weights is trained and doc.result.weights_ok[d] is False
    assert not np.array_equal(document_to_model(doc).get_layer(doc.nodes[d].name).get_weights()[1], np.ones(4))
    doc.set_param(d, "units", 2)
    assert doc.result.weights_ok[d] is True
    got = document_to_model(doc).get_layer(doc.nodes[d].name).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(got, trained))


def test_unknown_class_is_a_config_problem():
    from visualkeras_app.document.graph import LayerNode

    doc, (i,) = chain(("InputLayer", {"batch_shape": [None, 3]}))
    doc.add_node(LayerNode("x", "NoSuchLayer", "mystery", {}))
    doc.add_edge(Edge(i, "x"))
    r = doc.result
    assert [p.kind for p in r.node_problems["x"]] == ["config"]
    assert "NoSuchLayer" in r.node_problems["x"][0].message


def test_problem_is_hashable_and_result_json_friendly():
    p = Problem("shape", "m", "n1", Edge("a", "b"))
    assert {p: 1}[p] == 1
    doc = load_template("residual_block")
    json.dumps(doc.result.shape_text)
    assert len(doc.result.edge_shape_text) == len(doc.edges)


def test_configs_are_never_mutated_by_inference():
    doc = load_template("residual_block")
    before = json.dumps(doc.to_dict(), sort_keys=True)
    inference.forget(doc)
    doc.infer()
    assert json.dumps(doc.to_dict(), sort_keys=True) == before


@pytest.mark.parametrize("bad", [{"kernel_size": [0, 3]}, {"padding": "middle"}])
def test_conv_config_problems(bad):
    doc, (i, c) = chain(("InputLayer", {"batch_shape": MNIST}), ("Conv2D", bad))
    assert [p.kind for p in doc.result.node_problems[c]] == ["config"]
