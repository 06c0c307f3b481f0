"""Documents to engine models and back: equal graphs, kept weights, same outputs; clear refusals."""
import numpy as np
import pytest

import engine
from engine import layers as L
from visualkeras_app.document.convert import ConversionError, chain_order, document_to_model, model_to_document
from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.document.templates import list_templates, load_template

from tests.visualkeras_app.document.helpers import chain, node, signature


def branchy_model():
    """Two inputs, a branch, a three-way merge, a multi-output LSTM and two outputs."""
    a = engine.Input((6, 4), name="seq")
    b = engine.Input((3,), name="side")
    out, h, c = L.LSTM(5, return_state=True, name="enc")(a)
    side = L.Dense(5, activation="relu", name="side_dense")(b)
    merged = L.Concatenate(name="cat")([h, side, c])
    head = L.Dense(2, activation="softmax", name="head")(merged)
    aux = L.Dense(1, name="aux")(L.Add(name="add")([h, side]))
    return engine.Model([a, b], [head, aux])


def test_every_template_round_trips_to_an_equal_document():
    for t in list_templates():
        doc = load_template(t.key)
        back = model_to_document(document_to_model(doc))
        assert signature(back) == signature(doc), t.key
        assert back == doc, t.key  # same ids, order and (auto-)layout too


def test_chain_is_sequential_and_branches_are_functional():
    assert isinstance(document_to_model(load_template("seed_cnn")), engine.Sequential)
    model = document_to_model(load_template("residual_block"))
    assert not isinstance(model, engine.Sequential) and [l.name for l in model.layers][-1] == "dense"
    doc = Document()
    i = node(doc, "InputLayer", batch_shape=[None, 6, 4])
    lstm = node(doc, "LSTM", units=5, return_state=True)
    d = node(doc, "Dense", units=2)
    doc.add_edge(Edge(i, lstm))
    doc.add_edge(Edge(lstm, d, 0, 1))
    assert chain_order(doc) is None  # a chain by its edges, but the LSTM makes three tensors
    assert not isinstance(document_to_model(doc), engine.Sequential)


def test_functional_model_with_branches_merges_and_multi_outputs_round_trips():
    model = branchy_model()
    doc = model_to_document(model)
    assert doc.result.ok
    names = {nid: n.name for nid, n in doc.nodes.items()}
    edges = {(names[e.src], names[e.dst], e.dst_port, e.src_port) for e in doc.edges}
    assert ("enc", "cat", 0, 1) in edges and ("side_dense", "cat", 1, 0) in edges and ("enc", "cat", 2, 2) in edges
    back = document_to_model(doc)
    assert back.input_names == ["seq", "side"] and back.output_names == ["head", "aux"]
    assert [l.name for l in back.layers] == [l.name for l in model.layers]
    rng = np.random.default_rng(0)
    x = [rng.random((3, 6, 4), dtype=np.float32), rng.random((3, 3), dtype=np.float32)]
    for y0, y1 in zip(model.predict(x, verbose=0), back.predict(x, verbose=0)):
        np.testing.assert_array_equal(y0, y1)  # weights kept: the very same numbers
    again = model_to_document(back)
    assert again == doc
    for nid in doc.nodes:
        for w0, w1 in zip(doc.nodes[nid].weights or [], again.nodes[nid].weights or []):
            np.testing.assert_array_equal(w0, w1)


def test_weights_from_a_trained_model_are_kept_and_set():
    model = document_to_model(load_template("seed_mlp"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(1)
    model.fit(rng.random((32, 100), dtype=np.float32), np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)],
              epochs=1, verbose=0)
    doc = model_to_document(model)
    assert all(n.weights is not None for n in doc.nodes.values() if not n.is_input)
    again = document_to_model(doc)
    x = rng.random((4, 100), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


def test_weights_that_no_longer_fit_are_not_set():
    model = document_to_model(load_template("seed_mlp"))
    doc = model_to_document(model)
    dense = next(nid for nid, n in doc.nodes.items() if n.name == "dense_1")
    doc.set_param(dense, "units", 3)
    rebuilt = document_to_model(doc)  # no shape error: the stale weights are left out
    assert rebuilt.get_layer("dense_1").get_weights()[0].shape == (64, 3)
    kept = rebuilt.get_layer("dense").get_weights()[0]
    np.testing.assert_array_equal(kept, model.get_layer("dense").get_weights()[0])


def test_layer_names_are_node_names():
    doc, ids = chain(("InputLayer", {"batch_shape": [None, 3]}), "Dense")
    doc.rename(ids[1], "my_head")
    model = document_to_model(doc)
    assert [l.name for l in model.layers] == ["my_head"]


def test_graph_problems_refuse_with_the_list():
    doc, ids = chain(("InputLayer", {"batch_shape": [None, 10]}), "Conv2D")
    node(doc, "Dense", name="lonely")
    with pytest.raises(ConversionError) as err:
        document_to_model(doc)
    text = str(err.value)
    assert "cannot be compiled" in text and "lonely" in text and "conv" in text.lower()
    assert isinstance(err.value, ValueError)
    with pytest.raises(ConversionError, match="empty"):
        document_to_model(Document())


def test_shared_layer_is_refused_with_a_clear_message():
    shared = L.Dense(4, name="encoder")
    a, b = engine.Input((3,), name="a"), engine.Input((3,), name="b")
    model = engine.Model([a, b], L.Add()([shared(a), shared(b)]))
    with pytest.raises(ConversionError, match="'encoder'.*shared.*2 times"):
        model_to_document(model)


def test_nested_model_and_initial_state_are_refused():
    inner = engine.Sequential([engine.Input((3,)), L.Dense(2)], name="inner")
    x = engine.Input((3,))
    with pytest.raises(ConversionError, match="inner"):
        model_to_document(engine.Model(x, inner(x)))
    seq = engine.Input((5, 2))
    h = engine.Input((4,))
    c = engine.Input((4,))
    y = L.LSTM(4, name="dec")(seq, initial_state=[h, c])
    with pytest.raises(ConversionError, match="'dec'.*3 tensors"):
        model_to_document(engine.Model([seq, h, c], y))


def test_unbuilt_sequential_is_refused():
    with pytest.raises(ConversionError, match="no input shape"):
        model_to_document(engine.Sequential([L.Dense(3)]))


def test_keras_model_opens_with_its_weights(keras):
    inp = keras.Input((6,), name="x")
    a = keras.layers.Dense(4, activation="relu", name="a")(inp)
    b = keras.layers.Dense(4, name="b")(inp)
    out = keras.layers.Dense(2, name="out")(keras.layers.Add(name="add")([a, b]))
    kmodel = keras.Model(inp, out)
    model = engine.models.model_from_json(kmodel.to_json())
    model.set_weights(kmodel.get_weights())
    doc = model_to_document(model)
    x = np.random.default_rng(2).random((5, 6), dtype=np.float32)
    np.testing.assert_allclose(document_to_model(doc).predict(x, verbose=0),
                               keras.ops.convert_to_numpy(kmodel(x)), atol=1e-6)


def test_opening_a_model_seeds_inference_with_the_same_answers_a_probe_gives(monkeypatch):
    from visualkeras_app.document import inference

    calls = []
    real = inference._probe
    monkeypatch.setattr(inference, "_probe", lambda *a: calls.append(a[0]) or real(*a))
    models = [branchy_model(), document_to_model(load_template("mnist_fast_cnn")),
              document_to_model(load_template("residual_block"))]
    calls.clear()
    for model in models:
        doc = model_to_document(model)
        assert calls == []  # everything came from the model
        seeded = doc.result
        inference.forget(doc)
        probed = doc.infer()
        assert len(calls) > 0
        calls.clear()
        for field in ("shapes", "params", "trainable", "non_trainable", "weight_shapes", "weights_ok",
                      "edge_shape_text", "shape_text"):
            assert getattr(seeded, field) == getattr(probed, field), field
        assert (seeded.trainable_bytes, seeded.non_trainable_bytes) == (probed.trainable_bytes,
                                                                        probed.non_trainable_bytes)
