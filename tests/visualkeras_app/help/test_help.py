"""Help: F1 on a selected layer or a palette item shows the layer's docstring, arguments and (on the canvas) its
input and output shapes; Help ▸ Getting Started opens the first-steps page; F1 with nothing to document says what
to select."""
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from visualkeras_app.help.layer_doc import argument_rows, layer_doc_html  # noqa: E402


@pytest.fixture(scope="module")
def _engine():
    pytest.importorskip("engine")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, _engine):
    from PySide6.QtCore import QSettings

    from visualkeras_app.mainwindow import MainWindow

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    win.start()
    win.new_from_template("mnist_fast_cnn")
    return win


def test_layer_page_has_docstring_arguments_and_shapes(_engine):
    from visualkeras_app.document.templates import load_template

    doc = load_template("mnist_fast_cnn")
    conv = [n for n in doc.nodes.values() if n.class_name == "Conv2D"][-1]
    page = layer_doc_html("Conv2D", doc, conv.id)
    assert "2D convolution layer" in page and "kernel_size" in page
    shapes = doc.result.shape_text
    src = next(e.src for e in doc.edges if e.dst == conv.id)
    assert shapes[src] in page and shapes[conv.id] in page and shapes[src] != shapes[conv.id]  # input, output
    assert "<b>48</b>" in page  # filters, not the default (32)
    assert "13,824" in page  # parameters: 3 x 3 x 32 x 48
    rows = {name: (kind, default, value) for name, kind, default, value in argument_rows("Dense", {"units": 7})}
    assert rows["units"][2] == "7" and rows["activation"][0] == "activation"
    assert "No documentation" in layer_doc_html("NoSuchLayer")


def test_f1_on_a_selected_layer(qtbot, window):
    dense = next(n for n in window.controller.document.nodes.values() if n.class_name == "Dense")
    window.controller.set_selection([dense.id])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_F1)
    dlg = window.layer_help_dialog
    assert dlg.isVisible() and "Dense" in dlg.windowTitle()
    text = dlg.text()
    assert "densely-connected" in text.lower() or "dense" in text.lower()
    assert "Output shape" in text and "(None, 10)" in text and "(None, 2352)" in text and "units" in text


@pytest.mark.slow  # a window each; F1 on a selected layer and the Help menu stay in the fast loop
def test_f1_on_a_palette_item(qtbot, window):
    window.controller.set_selection([])
    pal = window.palette_panel
    item = pal.item_for("LSTM")
    pal.tree.setCurrentItem(item)
    pal.tree.setFocus()
    window.act_layer_help.trigger()
    dlg = window.layer_help_dialog
    assert dlg.windowTitle().startswith("LSTM") and "return_sequences" in dlg.text()
    assert "Shapes on the canvas" not in dlg.text()  # not a layer on the canvas


@pytest.mark.slow  # a window each; F1 on a selected layer and the Help menu stay in the fast loop
def test_f1_with_nothing_selected_says_what_to_select(window):
    window.controller.set_selection([])
    window.palette_panel.tree.setCurrentItem(None)
    window.act_layer_help.trigger()
    assert getattr(window, "layer_help_dialog", None) is None
    assert "then press F1" in window.statusBar().currentMessage()


def test_getting_started_from_the_help_menu(window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    texts = [a.text() for a in help_menu.actions()]
    assert texts[:2] == ["&Getting Started", "&Layer Documentation"]
    window.act_getting_started.trigger()
    dlg = window.getting_started_dialog
    assert dlg.isVisible()
    text = dlg.text()
    for words in ("New from Template", "Train on MNIST", "Ctrl+T", "F1", "Results", "File ▸ Save"):
        assert words in text, words
