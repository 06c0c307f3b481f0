"""The controller and its undo commands, driven as the canvas and the panels drive them."""
import json
import os
import subprocess
import sys

import pytest

from visualkeras_app.document.graph import Document, Edge
from visualkeras_app.editor import commands
from visualkeras_app.editor.controller import NODE_WIDTH, EditorController, guess_flow, snake_case


def snap(controller):
    return controller.document.to_dict()


def chain(controller, *names):
    """Input then ``names`` connected in a row; returns the ids, Input first."""
    ids = [controller.add_layer("InputLayer", pos=(0, 0))]
    for i, name in enumerate(names):
        nid = controller.add_layer(name, pos=(0, 140 * (i + 1)))
        assert controller.connect(ids[-1], nid) is not None
        ids.append(nid)
    return ids


def test_keras_style_names():
    assert snake_case("Conv2D") == "conv2d"
    assert snake_case("BatchNormalization") == "batch_normalization"
    assert snake_case("InputLayer") == "input_layer"
    assert snake_case("GlobalAveragePooling2D") == "global_average_pooling2d"
    assert snake_case("LSTM") == "lstm"


def test_add_layer_defaults_names_selection_and_undo(controller):
    first = controller.add_layer("Dense", pos=(10, 20))
    second = controller.add_layer("Dense")
    doc = controller.document
    assert [doc.nodes[i].name for i in (first, second)] == ["dense", "dense_1"]
    assert doc.nodes[first].config["units"] > 0 and "name" not in doc.nodes[first].config
    assert doc.nodes[first].pos == (10.0, 20.0)
    assert doc.nodes[second].pos != doc.nodes[first].pos  # placed beside, not on top
    assert controller.selection() == [second]
    assert not controller.is_clean()
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert doc.nodes == {} and controller.is_clean()
    controller.undo_stack.redo()
    assert [n.name for n in doc.nodes.values()] == ["dense"]


def test_unknown_layer_is_refused_with_a_message(controller, messages):
    assert controller.add_layer("NoSuchLayer") is None
    assert controller.document.nodes == {}
    assert messages and "NoSuchLayer" in messages[-1]
    assert controller.undo_stack.count() == 0


def test_every_edit_undoes_to_an_exactly_equal_document(controller):
    c = controller
    snapshots = [snap(c)]

    def step(fn, *args, **kwargs):
        before = c.undo_stack.count()
        out = fn(*args, **kwargs)
        assert c.undo_stack.count() == before + 1, fn.__name__
        snapshots.append(snap(c))
        return out

    inp = step(c.add_layer, "InputLayer", pos=(0, 0))
    conv = step(c.add_layer, "Conv2D", pos=(0, 140))
    flat = step(c.add_layer, "Flatten", pos=(0, 280))
    dense = step(c.add_layer, "Dense", pos=(0, 420))
    step(c.connect, inp, conv)
    step(c.connect, conv, flat)
    edge = step(c.connect, flat, dense)
    step(c.set_param, dense, "units", 10)
    step(c.set_param, conv, "filters", 8)
    step(c.rename, dense, "logits")
    step(c.move_nodes, {flat: (300, 280), dense: (300, 420)})
    step(c.disconnect, edge)
    step(c.connect, flat, dense)
    pasted = step(c.paste, c.copy_nodes([conv, flat]))
    step(c.duplicate, [dense])
    step(c.auto_layout, "LR")
    step(c.set_config, conv, dict(c.document.nodes[conv].config, padding="same"))
    step(c.remove_nodes, [flat])  # a middle node: its two edges go too
    step(c.remove_items, [pasted[0]], [Edge(inp, conv)])
    final = snap(c)
    assert final != snapshots[0]

    for expected in reversed(snapshots[:-1]):
        c.undo_stack.undo()
        assert snap(c) == expected  # order of nodes and edges included
    assert c.document == Document() and c.is_clean()
    for expected in snapshots[1:]:
        c.undo_stack.redo()
        assert snap(c) == expected
    assert snap(c) == final


def test_undo_of_delete_restores_the_node_order_edges_and_weights(controller):
    import numpy as np

    ids = chain(controller, "Dense", "Dense", "Dense")
    doc = controller.document
    doc.nodes[ids[2]].weights = [np.ones((64, 64), "float32"), np.zeros(64, "float32")]
    before = doc.to_dict()
    controller.remove_nodes([ids[2], ids[1]])
    assert list(doc.nodes) == [ids[0], ids[3]] and doc.edges == []
    controller.undo_stack.undo()
    assert doc.to_dict() == before
    assert doc.nodes[ids[2]].weights[0].shape == (64, 64)


def test_refused_connections_say_why_and_push_nothing(controller, messages):
    inp, conv, dense = chain(controller, "Conv2D", "Dense")
    other = controller.add_layer("InputLayer")
    count = controller.undo_stack.count()
    assert controller.connect(dense, inp) is None
    assert "Input" in messages[-1] and "no incoming" in messages[-1]
    add = controller.add_layer("Add")
    assert controller.connect(dense, add) is not None
    count = controller.undo_stack.count()
    assert controller.connect(add, conv) is None  # conv has its input
    assert controller.connect(add, add) is None
    assert "cycle" in messages[-1]
    tail = controller.add_layer("Dense")
    assert controller.connect(add, tail) is not None
    count = controller.undo_stack.count()
    assert controller.connect(tail, add) is None  # add -> tail -> add
    assert "cycle" in messages[-1]
    assert controller.connect(other, dense) is None  # Dense has its input already
    assert "already has one" in messages[-1]
    assert controller.connect(conv, conv) is None
    assert controller.undo_stack.count() == count
    assert len(controller.document.edges) == 4


def test_merge_layers_take_the_lowest_free_port(controller):
    a, b, c = (controller.add_layer("InputLayer") for _ in range(3))
    add = controller.add_layer("Add")
    assert controller.connect(a, add).dst_port == 0
    assert controller.connect(b, add).dst_port == 1
    controller.disconnect(Edge(a, add, 0))
    assert controller.free_port(add) == 0
    assert controller.connect(c, add) == Edge(c, add, 0)
    assert controller.connect(a, add, dst_port=2) == Edge(a, add, 2)


def test_invalid_param_is_refused_and_typing_merges_into_one_step(controller, messages):
    dense = controller.add_layer("Dense")
    count = controller.undo_stack.count()
    assert controller.set_param(dense, "units", -1) is False
    assert "units" in messages[-1]
    assert controller.undo_stack.count() == count
    original = controller.document.nodes[dense].config["units"]
    for value in (1, 12, 128):  # typing "128" in a spin box
        assert controller.set_param(dense, "units", value)
    assert controller.undo_stack.count() == count + 1
    assert controller.document.nodes[dense].config["units"] == 128
    assert controller.set_param(dense, "use_bias", False)  # another field: its own step
    assert controller.undo_stack.count() == count + 2
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert controller.document.nodes[dense].config["units"] == original


def test_param_edits_far_apart_do_not_merge(controller, monkeypatch):
    dense = controller.add_layer("Dense")
    monkeypatch.setattr(commands, "CONFIG_MERGE_SECONDS", -1.0)
    controller.set_param(dense, "units", 5)
    controller.set_param(dense, "units", 6)
    assert controller.undo_stack.count() == 3
    controller.undo_stack.undo()
    assert controller.document.nodes[dense].config["units"] == 5


def test_rename_refuses_taken_and_empty_names(controller, messages):
    a = controller.add_layer("Dense")
    b = controller.add_layer("Dense")
    assert controller.rename(b, "dense") is False and "already exists" in messages[-1]
    assert controller.rename(b, "  ") is False and "empty" in messages[-1]
    assert controller.rename(b, "head") is True
    assert controller.document.nodes[b].name == "head"
    assert controller.document.nodes[a].name == "dense"


def test_copy_paste_across_two_controllers(qapp, controller):
    from PySide6.QtGui import QGuiApplication

    src = controller
    inp, conv, flat = chain(src, "Conv2D", "Flatten")
    src.set_param(conv, "kernel_size", (5, 5))
    text = src.copy_nodes([conv, flat])
    assert QGuiApplication.clipboard().text() == text and json.loads(text)["nodes"]

    dst = EditorController(Document())
    dst.add_layer("Conv2D")  # takes the name "conv2d" in the other window
    new = dst.paste()  # from the clipboard
    doc = dst.document
    assert len(new) == 2 and set(new).isdisjoint({dst.document.nodes[i].id for i in list(doc.nodes)[:1]})
    names = [doc.nodes[i].name for i in new]
    assert names == ["conv2d_1", "flatten"]
    assert doc.nodes[new[0]].config == src.document.nodes[conv].config  # tuples stay tuples
    assert doc.edges == [Edge(new[0], new[1])]  # the edge among the copied layers, remapped
    assert doc.nodes[new[0]].pos == (src.document.nodes[conv].pos[0] + 40, src.document.nodes[conv].pos[1] + 40)
    assert dst.selection() == new
    again = dst.paste(text)  # the same text again lands further away, clear of the first copies
    assert doc.nodes[again[0]].pos[0] > doc.nodes[new[0]].pos[0] + NODE_WIDTH
    assert [doc.nodes[i].name for i in again] == ["conv2d_2", "flatten_1"]
    dst.undo_stack.undo()
    dst.undo_stack.undo()
    assert len(doc.nodes) == 1


def test_paste_of_foreign_text_says_so(controller, messages):
    assert controller.paste("hello") == []
    assert controller.paste(json.dumps({"nodes": []})) == []
    assert "no layers" in messages[-1]
    assert controller.undo_stack.count() == 0


def test_duplicate_leaves_the_clipboard_alone(qapp, controller):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("keep me")
    inp, dense = chain(controller, "Dense")
    copies = controller.duplicate([inp, dense])
    assert QGuiApplication.clipboard().text() == "keep me"
    doc = controller.document
    assert [doc.nodes[i].name for i in copies] == ["input_layer_1", "dense_1"]
    assert Edge(copies[0], copies[1]) in doc.edges


def test_drag_moves_merge_only_with_the_same_key(controller):
    a = controller.add_layer("Dense", pos=(0, 0))
    base = controller.undo_stack.count()
    controller.move_nodes({a: (10, 0)}, merge_key="drag-1")
    controller.move_nodes({a: (20, 0)}, merge_key="drag-1")
    assert controller.undo_stack.count() == base + 1
    controller.move_nodes({a: (30, 0)})
    controller.move_nodes({a: (30, 0)})  # no change: nothing pushed
    assert controller.undo_stack.count() == base + 2
    controller.undo_stack.undo()
    assert controller.document.nodes[a].pos == (20.0, 0.0)
    controller.undo_stack.undo()
    assert controller.document.nodes[a].pos == (0.0, 0.0)


def test_auto_layout_is_one_undo_step_and_sets_the_flow(controller):
    ids = chain(controller, "Conv2D", "Flatten", "Dense")
    for nid in ids:
        controller.move_nodes({nid: (500 - 100 * len(nid), 37)})
    before = snap(controller)
    flows = []
    controller.flow_changed.connect(flows.append)
    controller.auto_layout("LR")
    doc = controller.document
    xs = [doc.nodes[i].pos[0] for i in ids]
    assert xs == sorted(xs) and len(set(xs)) == 4  # left to right in graph order
    assert controller.flow == "LR" or flows == ["LR"]
    controller.auto_layout("TB")
    assert flows[-1] == "TB" and controller.flow == "TB"
    ys = [doc.nodes[i].pos[1] for i in ids]
    assert ys == sorted(ys) and len(set(ys)) == 4
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert snap(controller) == before


def test_guess_flow_reads_how_the_nodes_lie():
    doc = Document.__new__(Document)
    Document.__init__(doc)
    from visualkeras_app.document.graph import LayerNode

    doc.nodes = {"a": LayerNode("a", "InputLayer", "a", pos=(0, 0)), "b": LayerNode("b", "Dense", "b", pos=(20, 200))}
    doc.edges = [Edge("a", "b")]
    assert guess_flow(doc) == "TB"
    doc.nodes["b"].pos = (300, 10)
    assert guess_flow(doc) == "LR"
    doc.edges = []
    assert guess_flow(doc, "TB") == "TB"


def test_replace_document_clears_history_and_selection(controller):
    controller.add_layer("Dense")
    replaced, selections = [], []
    controller.document_replaced.connect(lambda: replaced.append(True))
    controller.selection_changed.connect(selections.append)
    new = Document()
    controller.replace_document(new)
    assert controller.document is new
    assert controller.undo_stack.count() == 0 and controller.is_clean()
    assert replaced == [True] and selections == [[]] and controller.selection() == []


def test_select_all_and_delete_selection_with_edges(controller):
    inp, conv, dense = chain(controller, "Conv2D", "Dense")
    controller.select_all()
    assert controller.selection() == [inp, conv, dense]
    controller.set_selection([dense])
    controller.set_selected_edges([Edge(inp, conv)])
    controller.delete_selection()
    doc = controller.document
    assert list(doc.nodes) == [inp, conv] and doc.edges == []
    controller.undo_stack.undo()
    assert list(doc.nodes) == [inp, conv, dense] and len(doc.edges) == 2


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_auto_layout_on_empty_document_is_a_no_op(controller, direction):
    controller.auto_layout(direction)
    assert controller.undo_stack.count() == 0


def test_reconnect_is_one_step_or_refused_whole(controller, messages):
    inp = controller.add_layer("InputLayer")
    a = controller.add_layer("Dense")
    b = controller.add_layer("Dense")
    old = controller.connect(inp, a)
    before = snap(controller)
    new = controller.reconnect(old, inp, b)
    assert new == Edge(inp, b) and controller.document.edges == [new]
    controller.undo_stack.undo()
    assert snap(controller) == before
    assert controller.reconnect(old, inp, a) == old  # back where it was: nothing pushed
    assert controller.reconnect(old, inp, inp) is None and "Input" in messages[-1]
    assert snap(controller) == before


def test_positions_may_be_qpointf(controller):
    from PySide6.QtCore import QPointF

    a = controller.add_layer("Dense", pos=QPointF(12.5, 40))
    controller.move_nodes({a: QPointF(60, 80)})
    assert controller.document.nodes[a].pos == (60.0, 80.0)
    controller.undo_stack.undo()
    assert controller.document.nodes[a].pos == (12.5, 40.0)


@pytest.mark.slow
def test_the_process_exits_cleanly_with_layers_on_the_clipboard(tmp_path):
    # The clipboard outlives the interpreter; what it holds must not call back into Python then.
    code = ("from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from visualkeras_app.document.graph import Document; "
            "from visualkeras_app.editor.controller import EditorController; "
            "c = EditorController(Document()); i = c.add_layer('InputLayer'); d = c.add_layer('Dense'); "
            "c.connect(i, d); c.copy_nodes([i, d]); print('copied')")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "copied" in result.stdout, (result.returncode, result.stderr[-2000:])


def test_a_layer_added_before_an_input_that_is_taken_is_refused(controller, messages):
    inp, dense = chain(controller, "Dense")
    before, steps = controller.document.to_dict(), controller.undo_stack.count()
    assert controller.add_layer_before("Dense", dense, 0, (300, 0)) is None
    assert "cannot take another input" in messages[-1]
    assert controller.add_layer_before("Dense", inp, 0, (300, 0)) is None  # an Input takes none
    assert controller.document.to_dict() == before and controller.undo_stack.count() == steps
    add = controller.add_layer("Add", pos=(0, 400))
    controller.connect(dense, add)
    new = controller.add_layer_before("Dense", add, 1, (300, 300))  # a merge's free second input
    assert Edge(new, add, 1) in controller.document.edges
    assert controller.undo_stack.count() == steps + 3
