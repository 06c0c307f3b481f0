"""Edits cost O(1) whatever the graph's size (issue 18, "Why" 6): adding a layer or a connection
scanned every node and edge, so opening 8,000 layers took 13 s in those scans alone."""
import random
import time

import pytest

from visualkeras_app.document.graph import Document, Edge, GraphError, LayerNode


def chain(n):
    doc = Document()
    with doc.batch():
        prev = doc.add_node(LayerNode("n0", "InputLayer", "in", {"batch_shape": [None, 4]})).id
        for i in range(1, n):
            nid = doc.add_node(LayerNode(f"n{i}", "Dense", f"d{i}", {"units": 4})).id
            doc.add_edge(Edge(prev, nid))
            prev = nid
    return doc


@pytest.mark.slow  # 0.4-0.6 s: a timing of 8,000 layers; the lookups test below runs in the fast loop
def test_an_8000_layer_chain_builds_in_linear_time():
    start = time.perf_counter()
    doc = chain(8000)
    assert time.perf_counter() - start < 4.0  # 13.5 s with the scans, 0.4 s without
    assert len(doc.edges) == 7999
    with pytest.raises(GraphError, match="already"):
        doc.add_edge(Edge("n10", "n11"))


def refusal(doc, edge):
    try:
        doc.check_edge(edge)
    except GraphError as e:
        return str(e)
    return None


def reference_refusal(doc, edge):
    """check_edge's answer computed from scratch on a copy (fresh lookups)."""
    fresh = Document()
    fresh.nodes.update(doc.nodes)
    fresh.edges.extend(doc.edges)
    return refusal(fresh, edge)


def test_the_lookups_follow_every_kind_of_edit():
    rng = random.Random(18)
    doc = Document()
    kinds = ["Dense", "Add", "Concatenate", "InputLayer"]
    for step in range(600):
        ids = list(doc.nodes)
        action = rng.random()
        if action < 0.3 or len(ids) < 3:
            nid = doc.new_id()
            doc.add_node(LayerNode(nid, rng.choice(kinds), doc.unique_name(rng.choice(["a", "b", "c"])), {}))
        elif action < 0.4:
            doc.remove_node(rng.choice(ids))
        elif action < 0.5 and doc.edges:
            doc.remove_edge(rng.choice(doc.edges))
        elif action < 0.55:
            node = doc.nodes[rng.choice(ids)]
            name = rng.choice(["a", "b", "c", "d"]) + str(rng.randrange(5))
            if all(n.name != name for n in doc.nodes.values()):
                doc.rename(node.id, name)
        elif action < 0.6:
            doc.edges.append(Edge(rng.choice(ids), rng.choice(ids)))  # a hand-written file's edge
        else:
            edge = Edge(rng.choice(ids), rng.choice(ids), rng.randrange(2))
            assert refusal(doc, edge) == reference_refusal(doc, edge), step
            if refusal(doc, edge) is None:
                doc.add_edge(edge)
        names = [n.name for n in doc.nodes.values()]
        taken = rng.choice(names) if names else "zz"
        with pytest.raises(GraphError):
            doc.add_node(LayerNode(doc.new_id(), "Dense", taken, {}))
