"""The scene's grid of layer places (what edge routing asks "which layers are near this path?"):
it follows adds, moves, removals, undo and a replaced document, and routing a long chain asks it
instead of scanning the whole scene."""
import random

from PySide6.QtCore import QRectF

from visualkeras_app.document.graph import Document, Edge, LayerNode


def _brute(scene, rect):
    return {i.node_id for i in scene.node_items() if i.sceneBoundingRect().intersects(rect)}


def _check(scene, rects):
    for rect in rects:
        assert {i.node_id for i in scene.node_items_in(rect)} == _brute(scene, rect)


def test_the_grid_answers_like_a_full_scan_through_adds_moves_removals_and_undo(view, controller):
    scene = view.editor_scene
    rng = random.Random(3)
    ids = [controller.add_layer("Dense", pos=(rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)))
           for _ in range(40)]
    probes = [QRectF(rng.uniform(-2200, 2000), rng.uniform(-2200, 2000), rng.uniform(1, 900), rng.uniform(1, 900))
              for _ in range(60)] + [QRectF(-1e9, -1e9, 2e9, 2e9)]  # a vast rectangle too
    _check(scene, probes)
    controller.move_nodes({nid: (rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)) for nid in ids[:20]})
    _check(scene, probes)
    controller.remove_nodes(ids[20:30])
    _check(scene, probes)
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    _check(scene, probes)
    controller.replace_document(Document())
    assert scene.node_items_in(QRectF(-1e6, -1e6, 2e6, 2e6)) == []


def test_routing_a_long_chain_never_scans_the_whole_scene(view, controller, monkeypatch):
    scene = view.editor_scene
    scans = []
    real_items = type(scene).items

    def counting(self, *args):
        scans.append(args)
        return real_items(self, *args)

    monkeypatch.setattr(type(scene), "items", counting)
    doc = Document()
    prev = doc.add_node(LayerNode(doc.new_id(), "InputLayer", "input", {"batch_shape": [None, 4]}, (0, 0))).id
    for i in range(150):
        nid = doc.add_node(LayerNode(doc.new_id(), "Dense", f"d{i}", {"units": 4}, (0, 120 * (i + 1)))).id
        doc.add_edge(Edge(prev, nid))
        prev = nid
    controller.replace_document(doc)
    scene.flush_routes()
    assert len(scene.edge_items()) == 150
    assert len(scans) < 20  # was one scene query per edge and per layer: 300 and more
