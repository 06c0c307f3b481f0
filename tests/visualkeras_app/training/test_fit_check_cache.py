"""The Training panel's checks on a new document are cheap for a 20,000-layer model (issue 18: the window's
handler of a new document took 130 ms there): the graph's ends are found once per inference result and the
graph's lists, and whether the document has trained weights stops at the first layer without them."""
import numpy as np

from visualkeras_app.document.graph import Document, Edge, LayerNode
from visualkeras_app.training.fit_check import model_io
from visualkeras_app.training_ui.docks import has_trained_weights


def _chain(n=3):
    doc = Document()
    with doc.batch():
        prev = doc.add_node(LayerNode(doc.new_id(), "InputLayer", "in", {"batch_shape": [None, 4]})).id
        for i in range(n):
            nid = doc.add_node(LayerNode(doc.new_id(), "Dense", f"d{i}", {"units": 4})).id
            doc.add_edge(Edge(prev, nid))
            prev = nid
    return doc


def test_the_ends_follow_edits_and_lists_changed_by_hand():
    doc = _chain()
    first = model_io(doc)
    assert first[1].name == "d2" and first[2] == (None, 4) and first[3] == (None, 4)
    assert model_io(doc)[1] is first[1]
    nid = doc.add_node(LayerNode(doc.new_id(), "Dense", "head", {"units": 3})).id
    doc.add_edge(Edge(first[1].id, nid))  # an edit: a new inference result
    assert model_io(doc)[1].name == "head" and model_io(doc)[3] == (None, 3)
    # The edge list changed behind the document's back (as some tests do): still found afresh.
    doc.edges.pop()
    assert model_io(doc) is None  # two ends now ('d2' and 'head'): not a one-output model


def test_trained_weights_are_every_weighted_layers_of_the_right_shapes():
    doc = _chain(3)
    nodes = [n for n in doc.nodes.values() if n.class_name == "Dense"]
    assert not has_trained_weights(doc)
    for n in nodes[:2]:
        n.weights = [np.zeros((4, 4), "float32"), np.zeros((4,), "float32")]
    assert not has_trained_weights(doc)  # the last layer has none
    nodes[2].weights = [np.zeros((4, 5), "float32"), np.zeros((4,), "float32")]
    assert not has_trained_weights(doc)  # of another shape
    nodes[2].weights = [np.zeros((4, 4), "float32"), np.zeros((4,), "float32")]
    assert has_trained_weights(doc)
    nodes[0].weights = None
    assert not has_trained_weights(doc)  # the first layer has none
