"""The code dock: generated engine code that follows the document, and a Copy button."""
import pytest
from PySide6.QtGui import QGuiApplication

from visualkeras_app.panels.code_view import CodePanel


@pytest.fixture
def panel(qtbot, controller):
    p = CodePanel(controller)
    qtbot.addWidget(p)
    p.resize(600, 400)
    p.show()
    qtbot.waitExposed(p)
    return p


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=2000)


def test_empty_document_has_no_code(qtbot, panel):
    settle(qtbot, panel)
    assert panel.text() == "" and panel.editor.isReadOnly()


def test_code_follows_edits_and_runs(qtbot, panel, chain, controller):
    ids = chain("Flatten", ("Dense", {"units": 10}))
    settle(qtbot, panel)
    code = panel.text()
    assert "import engine" in code and "Dense(10" in code and "model.summary()" in code
    controller.set_param(ids[-1], "units", 7)
    settle(qtbot, panel)
    assert "Dense(7" in panel.text()
    controller.undo_stack.undo()
    settle(qtbot, panel)
    assert panel.text() == code
    # The generated code builds the same model.
    namespace = {}
    exec(compile(code.replace("model.summary()", ""), "<generated>", "exec"), namespace)
    assert namespace["model"].count_params() == controller.document.result.total_params


def test_many_edits_regenerate_once(qtbot, panel, chain, controller, monkeypatch):
    import visualkeras_app.document.codegen as codegen

    calls = []
    real = codegen.iter_code
    monkeypatch.setattr(codegen, "iter_code", lambda doc, result=None: calls.append(1) or real(doc, result))
    chain("Flatten", "Dense", "Dropout", "Dense")
    settle(qtbot, panel)
    assert len(calls) == 1


def test_problems_replace_the_code_with_their_list(qtbot, panel, controller):
    controller.add_layer("Dense")  # no Input
    settle(qtbot, panel)
    text = panel.text()
    assert text.startswith("# The graph has problems")
    assert "no Input" in text
    assert "will not run" in panel.status.text()
    inp = controller.add_layer("InputLayer")
    controller.connect(inp, next(n for n in controller.document.nodes if n != inp))
    settle(qtbot, panel)
    assert not panel.text().startswith("#") and "will not run" not in panel.status.text()


def test_copy_button(qtbot, panel, chain):
    chain("Flatten")
    settle(qtbot, panel)
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == panel.text() != ""


@pytest.mark.slow
def test_a_big_models_code_is_written_in_slices_while_the_window_answers(qtbot, panel, controller):
    from visualkeras_app.document.codegen import generate_code
    from visualkeras_app.document.graph import Document, Edge, LayerNode
    from visualkeras_app.panels import code_view

    doc = Document()
    prev = doc.add_node(LayerNode(doc.new_id(), "InputLayer", "input", {"batch_shape": [None, 8]}, (0, 0))).id
    for i in range(code_view.INCREMENTAL_NODES + 20):
        nid = doc.add_node(LayerNode(doc.new_id(), "Dense", f"d{i}", {"units": 8 + i % 3}, (0, 100 * i))).id
        doc.add_edge(Edge(prev, nid))
        prev = nid
    controller.replace_document(doc)
    panel.refresh()
    assert panel.busy and "Writing the code" in panel.status.text()  # not made in one go on the GUI thread
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    assert panel.editor.toPlainText() == generate_code(doc)
    # text() while a slice job runs finishes it at once.
    panel.refresh()
    assert panel.busy and panel.text() == generate_code(doc) and not panel.busy


def test_only_the_changed_lines_are_replaced_and_the_text_is_always_exact(qtbot, panel, monkeypatch):
    """Edits in the middle, at either end, growing, shrinking, emptying, and lines with characters outside
    the BMP (two UTF-16 units in the editor): the editor's text is "\\n".join(lines) after each."""
    import random

    from visualkeras_app.panels import code_view

    monkeypatch.setattr(code_view, "INSERT_LINES", 7)  # long runs go in slices: exercised with small lists
    rng = random.Random(5)
    words = ["a", "bb", "", "dense(4)", "\U0001F600 x", "é"]
    lines = []
    for _ in range(60):
        new = list(lines)
        for _ in range(rng.randint(1, 4)):
            i = rng.randint(0, len(new))
            if new and rng.random() < 0.4:
                del new[i - 1: i - 1 + rng.randint(1, 5)]
            else:
                new[i:i] = [rng.choice(words) + str(rng.randint(0, 9)) for _ in range(rng.randint(1, 20))]
        if rng.random() < 0.1:
            new = []
        panel._apply_lines(new)
        assert panel.text() == "\n".join(new) and not panel.busy
        lines = new


def test_one_changed_layer_replaces_one_line_of_a_long_text(qtbot, panel):
    lines = [f"line {i}" for i in range(3000)]
    panel._apply_lines(lines)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)  # 3,000 new lines go in over several slices
    assert panel.editor.toPlainText() == "\n".join(lines)
    changes = []
    panel.editor.document().contentsChange.connect(lambda pos, removed, added: changes.append((removed, added)))
    lines[1500] = "line 1500 changed"
    panel._apply_lines(lines)
    assert changes == [(len("line 1500\n"), len("line 1500 changed\n"))]
    assert panel.text() == "\n".join(lines)
