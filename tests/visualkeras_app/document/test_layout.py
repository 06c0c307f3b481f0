"""Layered auto-layout: edges flow one way, no overlaps, merge inputs in port order, on the grid."""
import pytest

from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.document.layout import NODE_H, NODE_W, auto_layout, snap
from visualkeras_app.document.templates import load_template

from tests.visualkeras_app.document.helpers import chain, node


def diamond():
    doc = Document()
    i = node(doc, "InputLayer", batch_shape=[None, 4])
    b = node(doc, "Dense", name="right")
    a = node(doc, "Dense", name="left")
    add = node(doc, "Add")
    doc.add_edge(Edge(i, b))
    doc.add_edge(Edge(i, a))
    doc.add_edge(Edge(a, add, 0))
    doc.add_edge(Edge(b, add, 1))
    return doc, (i, a, b, add)


def overlaps(p, q):
    return abs(p[0] - q[0]) < NODE_W and abs(p[1] - q[1]) < NODE_H


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_edges_flow_one_way_and_boxes_do_not_overlap(direction):
    for doc in (load_template("residual_block"), load_template("seed_cnn"), diamond()[0]):
        pos = auto_layout(doc, direction)
        assert set(pos) == set(doc.nodes)
        axis = 1 if direction == "TB" else 0
        for e in doc.edges:
            assert pos[e.dst][axis] > pos[e.src][axis]
        items = list(pos.values())
        assert not any(overlaps(p, q) for k, p in enumerate(items) for q in items[k + 1:])
        assert all(v % 20 == 0 for p in items for v in p)


def test_merge_inputs_sit_in_port_order_and_the_chain_is_straight():
    doc, (i, a, b, add) = diamond()
    pos = auto_layout(doc)
    assert pos[a][0] < pos[b][0]  # port 0 on the left although added second
    assert pos[i][0] == pos[add][0]  # centred over the branches
    doc, ids = chain(("InputLayer", {}), "Conv2D", "Flatten", "Dense")
    xs = {auto_layout(doc)[n][0] for n in ids}
    assert len(xs) == 1


def test_longest_path_layering_puts_a_skip_target_below_its_deepest_input():
    doc = load_template("residual_block")
    pos = auto_layout(doc)
    by_name = {n.name: pos[nid] for nid, n in doc.nodes.items()}
    assert by_name["add"][1] > by_name["conv_b"][1] > by_name["conv_a"][1] > by_name["stem"][1]


def test_empty_document_snap_and_bad_direction():
    assert auto_layout(Document()) == {}
    assert snap((29.0, -11.0)) == (20.0, -20.0) and snap((31, 49), grid=10) == (30.0, 50.0)
    with pytest.raises(ValueError, match="direction"):
        auto_layout(Document(), "BT")


def test_three_hundred_nodes_lay_out_quickly():
    import time

    specs = [("InputLayer", {"batch_shape": [None, 8]})] + [("Dense", {"units": 8})] * 300
    doc, ids = chain(*specs)
    t0 = time.perf_counter()
    pos = auto_layout(doc, "LR")
    assert time.perf_counter() - t0 < 2.0  # generous: the layout is linear in the graph
    assert pos[ids[-1]][0] == 300 * 300
