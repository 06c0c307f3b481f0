"""A big document's canvas makes items only near the view (issue 18: 20,000 layers open without freezing
the window), and still behaves as a small one's: scrolling and zooming make what comes into view, a layer
chosen elsewhere is made and scrolled to, Select All and a drag reach layers without items, connections
route round every layer, edits and undo keep the items and the grid right."""
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from visualkeras_app.canvas.scene import VIRTUAL_FROM
from visualkeras_app.document.graph import Document, Edge, LayerNode
from visualkeras_app.document.style import NODE_HEIGHT, NODE_WIDTH

STEP = 140.0  # a chain laid out top to bottom, as the window lays out an opened Sequential file


def chain(n, skip=None):
    """An Input and ``n`` Dense layers in a column; ``skip=(a, b)`` adds an Add fed by layers a and b."""
    doc = Document()
    with doc.batch():
        prev = doc.add_node(LayerNode("n0", "InputLayer", "in", {"batch_shape": [None, 4]}, (0.0, 0.0))).id
        for i in range(1, n + 1):
            nid = doc.add_node(LayerNode(f"n{i}", "Dense", f"d{i}", {"units": 4}, (0.0, STEP * i))).id
            doc.add_edge(Edge(prev, nid))
            prev = nid
        if skip:
            a, b = skip
            add = doc.add_node(LayerNode("add", "Add", "add", {}, (0.0, STEP * (n + 1)))).id
            doc.add_edge(Edge(f"n{a}", add, 0))
            doc.add_edge(Edge(f"n{b}", add, 1))
    return doc


def visible(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def settle(view):
    view.editor_scene.finish_region()


def open_big(view, controller, n, virtual_from=None, **kw):
    scene = view.editor_scene
    if virtual_from is not None:
        scene.virtual_from = virtual_from
    doc = chain(n, **kw)
    controller.replace_document(doc)
    view.show_graph()
    settle(view)
    return scene, doc


def box_meets(node, rect):
    return QRectF(node.pos[0], node.pos[1], NODE_WIDTH, NODE_HEIGHT).intersects(rect)


def check_items(scene, doc, view):
    """Every item where its layer is; every layer in view has its item and its connections theirs."""
    for item in scene.node_items():
        assert (item.x(), item.y()) == tuple(doc.nodes[item.node_id].pos)
    seen = visible(view)
    shown = {nid for nid, node in doc.nodes.items() if box_meets(node, seen)}
    assert shown and shown <= {i.node_id for i in scene.node_items()}
    for e in doc.edges:
        if e.src in shown and e.dst in shown:
            assert scene.edge_item(e) is not None
    for item in scene.edge_items():
        assert scene.node_item(item.edge.src) is item.src_item and scene.node_item(item.edge.dst) is item.dst_item


def test_a_2000_layer_document_binds_with_items_only_near_the_view(view, controller):
    scene, doc = open_big(view, controller, 2000)
    assert 2001 >= VIRTUAL_FROM and scene.virtual
    assert 0 < len(scene.node_items()) < 60 and len(scene.edge_items()) < 60
    check_items(scene, doc, view)
    # A small document still gets every item at once.
    controller.replace_document(chain(20))
    assert not scene.virtual and len(scene.node_items()) == 21 and len(scene.edge_items()) == 20


def test_scrolling_and_zooming_make_what_comes_into_view_and_drop_what_is_far(view, controller):
    scene, doc = open_big(view, controller, 500, virtual_from=100)
    first = {i.node_id for i in scene.node_items()}
    view.centerOn(100, STEP * 450)  # past the 50,000 units the scene used to end at
    settle(view)
    assert abs(view.center_scene_pos().y() - STEP * 450) < 2
    check_items(scene, doc, view)
    now = {i.node_id for i in scene.node_items()}
    assert "n450" in now and not (first & now) and len(now) < 60
    view.set_zoom(0.2, view.center_scene_pos())
    settle(view)
    check_items(scene, doc, view)
    assert len(scene.node_items()) > len(now)
    view.fit_to_view()  # 500 layers: the smallest zoom, at the middle of the chain
    settle(view)
    check_items(scene, doc, view)
    assert view.zoom() == 0.1 and len(scene.node_items()) < 250


def test_a_layer_chosen_elsewhere_is_made_selected_and_scrolled_to(view, controller):
    scene, doc = open_big(view, controller, 500, virtual_from=100)
    assert scene.edge_item(Edge("n449", "n450")) is None and "n450" not in {i.node_id for i in scene.node_items()}
    controller.set_selection(["n450"])  # as the Problems panel, search or a summary click do
    settle(view)
    item = scene.node_item("n450")
    assert item is not None and item.isSelected()
    assert visible(view).contains(item.sceneBoundingRect())
    check_items(scene, doc, view)


def test_fit_and_routes_match_the_fully_built_canvas(view, controller):
    # The same 150-layer chain with a skip connection from layer 10 to an Add at the end, once with every
    # item and once with items only near the view: the connections' paths, the graph's bounds agree.
    scene = view.editor_scene
    controller.replace_document(chain(150, skip=(10, 150)))
    scene.flush_routes()
    assert not scene.virtual
    full_paths = {e: item.path().boundingRect() for e, item in ((i.edge, i) for i in scene.edge_items())}
    full_rect = scene.nodes_rect()
    scene.virtual_from = 50
    controller.replace_document(chain(150, skip=(10, 150)))
    assert scene.virtual
    view.centerOn(0, STEP * 12)
    settle(view)
    scene.flush_routes()
    # The grid filed in one pass at the bind holds what filing each layer on its own gives.
    boxes = dict(scene._rects)
    for nid in list(boxes):
        scene._rects.pop(nid)
        scene._file(nid)
    assert scene._rects == boxes
    grids = (dict(scene._edge_rects), dict(scene._edge_curves), {k: set(v) for k, v in scene._edge_cells.items()},
             set(scene._long_edges))
    for edge in list(scene._edge_rects):
        scene._file_edge(edge, remove=True)
    assert not scene._edge_rects and not scene._edge_cells
    for edge in controller.document.edges:
        scene._file_edge(edge)
    assert (scene._edge_rects, scene._edge_curves, scene._edge_cells, scene._long_edges) == grids
    assert len(grids[0]) == 152
    skip = scene.edge_item(Edge("n10", "add", 0))
    assert skip is not None and len(scene.node_items()) < 40  # the skip's far end is made for it
    for item in scene.edge_items():
        assert item.path().boundingRect() == full_paths[item.edge]
    # The skip connection goes round layers 11-149 though almost none of them has an item.
    assert full_paths[skip.edge].left() < -20 or full_paths[skip.edge].right() > NODE_WIDTH + 20
    rect = scene.nodes_rect()
    assert rect.contains(full_rect.adjusted(0, 1, 0, -1)) or rect.contains(full_rect)
    assert rect.width() <= full_rect.width() + 200 and rect.height() <= full_rect.height() + 200


def test_select_all_and_a_drag_move_every_layer_with_or_without_item(view, controller, mouse):
    scene, doc = open_big(view, controller, 300, virtual_from=100)
    before = {nid: n.pos for nid, n in doc.nodes.items()}
    controller.select_all()
    assert len(controller.selection()) == 301 and len(scene.node_items()) < 60
    first = scene.node_item("n1")
    start = first.sceneBoundingRect().center()
    mouse.drag(start, start + QPointF(100, 0))
    assert all(doc.nodes[nid].pos == (p[0] + 100, p[1]) for nid, p in before.items())
    assert len(controller.selection()) == 301
    controller.undo_stack.undo()
    assert all(doc.nodes[nid].pos == p for nid, p in before.items())
    # A plain click selects that one layer; Ctrl+click takes one out of a Select All.
    controller.select_all()
    mouse.click(scene.node_item("n2").sceneBoundingRect().center())
    assert controller.selection() == ["n2"]
    controller.select_all()
    mouse.click(scene.node_item("n2").sceneBoundingRect().center(), modifiers=Qt.ControlModifier)
    assert len(controller.selection()) == 300 and "n2" not in controller.selection()


def test_edits_and_undo_keep_items_and_grid_right_in_a_big_document(view, controller):
    scene, doc = open_big(view, controller, 300, virtual_from=100)
    far = "n250"
    controller.move_nodes({far: (0.0, STEP * 2)})  # a far layer moved into view gets its item
    settle(view)
    assert scene.node_item(far) is not None
    check_items(scene, doc, view)
    controller.undo_stack.undo()
    view.centerOn(0, STEP * 3)
    settle(view)
    check_items(scene, doc, view)
    controller.remove_nodes(["n3", "n280"])  # one in view, one far away
    assert "n3" not in {i.node_id for i in scene.node_items()}
    controller.undo_stack.undo()
    settle(view)
    check_items(scene, doc, view)
    # The grid answers as a look at every layer of the document would.
    for rect in (QRectF(-50, 0, 400, 1000), QRectF(-10, STEP * 270, 30, STEP * 20), QRectF(-1e7, -1e7, 2e7, 2e7)):
        want = {nid for nid, node in doc.nodes.items()
                if QRectF(node.pos[0] - 5, node.pos[1] - 5, NODE_WIDTH + 10, NODE_HEIGHT + 11).intersects(rect)}
        assert set(scene.node_ids_in(rect)) == want


@pytest.mark.slow  # the export test below draws every layer of a big document in the fast loop
def test_realize_all_makes_every_item_for_an_export(view, controller):
    scene, doc = open_big(view, controller, 300, virtual_from=100)
    scene.realize_all()
    assert len(scene.node_items()) == 301 and len(scene.edge_items()) == 300
    for item in scene.node_items():
        assert (item.x(), item.y()) == tuple(doc.nodes[item.node_id].pos)


def test_an_export_of_the_canvas_draws_every_layer_of_a_big_document(view, controller):
    from visualkeras_app.export.ui import _scene_rect

    scene, doc = open_big(view, controller, 120, virtual_from=100)
    assert len(scene.node_items()) < 60
    rect = _scene_rect(scene)  # what Export Canvas / Copy Canvas as Image draw
    assert len(scene.node_items()) == 121
    assert rect.contains(QRectF(0, 0, NODE_WIDTH, STEP * 120 + NODE_HEIGHT))


def test_wiring_and_a_rubber_band_work_in_a_big_document(view, controller, mouse):
    scene, doc = open_big(view, controller, 300, virtual_from=100)
    new = controller.add_layer("Dense", pos=(400.0, STEP * 2))  # beside the chain, in view: it gets its item
    settle(view)
    assert scene.node_item(new) is not None
    start = scene.node_item("n2").output_port.anchor()
    mouse.drag(start, scene.node_item(new).input_port(0).anchor())
    assert Edge("n2", new) in doc.edges and scene.edge_item(Edge("n2", new)) is not None
    controller.set_selection([])
    # A band from empty canvas over layers n1-n3 (and a Ctrl+band adding n4 keeps them).
    mouse.drag(QPointF(-60, STEP * 1 + 10), QPointF(NODE_WIDTH + 60, STEP * 3 + 30))
    assert controller.selection() == ["n1", "n2", "n3"]
    mouse.drag(QPointF(-60, STEP * 4 + 10), QPointF(60, STEP * 4 + 30), modifiers=Qt.ControlModifier)
    assert controller.selection() == ["n1", "n2", "n3", "n4"]
    # A far selected layer without an item stays selected through a Ctrl+band, not through a plain one.
    controller.set_selection(["n1", "n250"])
    assert "n250" not in {i.node_id for i in scene.node_items()}
    mouse.drag(QPointF(-60, STEP * 4 + 10), QPointF(60, STEP * 4 + 30), modifiers=Qt.ControlModifier)
    assert controller.selection() == ["n1", "n4", "n250"]
    mouse.drag(QPointF(-60, STEP * 4 + 10), QPointF(60, STEP * 4 + 30))
    assert controller.selection() == ["n4"]


def test_a_long_connection_crossing_the_view_is_drawn_though_its_layers_are_far(view, controller):
    scene, doc = open_big(view, controller, 500, skip=(1, 500), virtual_from=100)
    skip = Edge("n1", "add", 0)
    assert skip in scene._long_edges  # too long for the grid: a plain list
    view.centerOn(0, STEP * 250)  # the middle of the chain: the skip runs beside it, its ends 35,000 units away
    settle(view)
    item = scene.edge_item(skip)
    assert item is not None and item.sceneBoundingRect().intersects(visible(view))
    assert not visible(view).intersects(item.src_item.sceneBoundingRect())  # made for the connection only
    check_items(scene, doc, view)


def residual(n):
    """An Input and ``n`` layers where every sixth is an Add of the layer before it and the previous Add."""
    doc = Document()
    with doc.batch():
        prev = block = doc.add_node(LayerNode("n0", "InputLayer", "in", {"batch_shape": [None, 4]})).id
        for i in range(1, n + 1):
            if i % 6 == 0:
                nid = doc.add_node(LayerNode(f"n{i}", "Add", f"add{i}", {})).id
                doc.add_edge(Edge(prev, nid, 0))
                doc.add_edge(Edge(block, nid, 1))
                block = nid
            else:
                nid = doc.add_node(LayerNode(f"n{i}", "Dense", f"d{i}", {"units": 4})).id
                doc.add_edge(Edge(prev, nid))
            prev = nid
    return doc


@pytest.mark.slow  # the top-to-bottom comparison with the full canvas runs in the fast loop
def test_routes_and_bounds_of_a_left_to_right_residual_graph_match_the_full_canvas(view, controller):
    # Skip connections detour on the side their Add's other input leaves free: the side must come from the
    # Add's ports, not from which of its connections have items.
    scene = view.editor_scene
    seen = []
    for virtual_from in (10**9, 50):
        scene.virtual_from = virtual_from
        controller.replace_document(residual(120))
        controller.auto_layout("LR")
        paths = {}
        for nid in ("n0", "n40", "n90"):
            x, y = controller.document.nodes[nid].pos
            view.centerOn(x + 100, y + 40)
            settle(view)
            scene.flush_routes()
            for item in scene.edge_items():
                paths[item.edge] = (item.path().boundingRect(), item.label_rect() if item.label_visible() else None)
        seen.append((paths, scene.nodes_rect(), scene.virtual, len(scene.node_items())))
    (full, full_rect, was_virtual, _), (part, rect, virtual, items) = seen
    assert not was_virtual and virtual and items < 60
    assert len(part) > 20 and all(part[e] == full[e] for e in part)
    assert any(full[e][0].top() < -10 or full[e][0].bottom() > 80 for e in part)  # detours among them
    assert rect == full_rect
