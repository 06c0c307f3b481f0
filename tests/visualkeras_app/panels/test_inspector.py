"""The inspector: typed editors from param_spec, edits through the controller, invalid values refused."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from visualkeras_app.panels.inspector import InspectorPanel, format_value, parse_text


@pytest.fixture
def inspector(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(340, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def type_into(qtbot, widget, text):
    """Select all, type ``text`` and press Enter, as a user edits a field."""
    line = widget.lineEdit() if isinstance(widget, (QSpinBox, QComboBox)) else widget
    widget.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key_Return)


def test_empty_and_multi_selection_hints(inspector, controller):
    assert inspector.empty.isVisible() and not inspector.scroll.isVisible()
    a = controller.add_layer("Dense")
    b = controller.add_layer("Dense")
    assert inspector.node_id == b and not inspector.empty.isVisible()
    controller.set_selection([a, b])
    assert inspector.node_id is None and "2 layers selected" in inspector.empty.text()


def test_typed_editors_for_dense(inspector, controller):
    nid = controller.add_layer("Dense")
    assert inspector.node_id == nid
    ed = inspector.editors
    assert isinstance(ed["units"].widget, QSpinBox) and ed["units"].widget.value() == 64
    assert isinstance(ed["use_bias"].widget, QCheckBox) and ed["use_bias"].widget.isChecked()
    assert isinstance(ed["activation"].widget, QComboBox)
    assert ed["activation"].widget.currentText() == controller.document.nodes[nid].config["activation"]
    assert inspector.name_edit.text() == "dense"
    # Initializers sit in the folded "Advanced" section.
    assert "kernel_initializer" in ed and not inspector.advanced_host.isVisible()
    assert ed["kernel_initializer"].widget.currentText().replace("_", "").lower() == "glorotuniform"
    inspector.advanced_toggle.click()
    assert inspector.advanced_host.isVisible()


def test_int_edit_goes_through_the_undo_stack(qtbot, inspector, controller):
    nid = controller.add_layer("Dense")
    type_into(qtbot, inspector.editors["units"].widget, "128")
    assert controller.document.nodes[nid].config["units"] == 128
    controller.undo_stack.undo()
    assert controller.document.nodes[nid].config["units"] == 64
    assert inspector.editors["units"].widget.value() == 64  # the editor follows the document
    controller.undo_stack.redo()
    assert inspector.editors["units"].widget.value() == 128


def test_invalid_int_is_refused_with_the_reason(qtbot, inspector, controller):
    nid = controller.add_layer("Dense")
    before = controller.undo_stack.count()
    with qtbot.waitSignal(inspector.refused) as sig:
        type_into(qtbot, inspector.editors["units"].widget, "0")
    assert controller.document.nodes[nid].config["units"] == 64
    assert controller.undo_stack.count() == before
    assert "positive" in sig.args[0] and "units=0" in sig.args[0]
    assert inspector.error.isVisible() and "positive" in inspector.error.text()
    assert inspector.editors["units"].is_invalid
    assert "positive" in inspector.editors["units"].widget.toolTip()
    # A valid value clears the mark.
    type_into(qtbot, inspector.editors["units"].widget, "10")
    assert controller.document.nodes[nid].config["units"] == 10
    assert not inspector.editors["units"].is_invalid and not inspector.error.isVisible()


def test_float_range_and_parse_errors(qtbot, inspector, controller):
    nid = controller.add_layer("Dropout")
    w = inspector.editors["rate"].widget
    assert isinstance(w, QLineEdit) and float(w.text()) == controller.document.nodes[nid].config["rate"]
    type_into(qtbot, w, "1.5")
    assert controller.document.nodes[nid].config["rate"] != 1.5
    assert "[0, 1)" in inspector.error.text()
    type_into(qtbot, w, "half")
    assert "not a number" in inspector.error.text()
    type_into(qtbot, w, "0.25")
    assert controller.document.nodes[nid].config["rate"] == 0.25
    assert not inspector.error.isVisible()


def test_choice_bool_activation_and_tuple(qtbot, inspector, controller):
    nid = controller.add_layer("Conv2D")
    node = controller.document.nodes[nid]
    pad = inspector.editors["padding"].widget
    pad.setCurrentIndex(pad.findText("same"))
    pad.activated.emit(pad.currentIndex())
    assert node.config["padding"] == "same"
    act = inspector.editors["activation"].widget
    act.setCurrentIndex(act.findText("relu"))
    act.activated.emit(act.currentIndex())
    assert node.config["activation"] == "relu"
    inspector.editors["use_bias"].widget.click()
    assert node.config["use_bias"] is False
    ks = inspector.editors["kernel_size"].widget
    type_into(qtbot, ks, "5")  # one number means the same size along both axes
    assert list(node.config["kernel_size"]) == [5, 5]
    type_into(qtbot, ks, "3, x")
    assert list(node.config["kernel_size"]) == [5, 5]
    assert "whole number" in inspector.error.text()
    assert controller.undo_stack.count() == 5  # add + four accepted edits


def test_unknown_activation_refused(qtbot, inspector, controller):
    nid = controller.add_layer("Dense")
    act = inspector.editors["activation"].widget
    type_into(qtbot, act, "not_an_activation")
    assert controller.document.nodes[nid].config["activation"] != "not_an_activation"
    assert "activation" in inspector.error.text().lower()


def test_shape_editor_for_input(qtbot, inspector, controller):
    nid = controller.add_layer("InputLayer")
    w = inspector.editors["batch_shape"].widget
    assert w.text() == "None, 28, 28, 1"
    type_into(qtbot, w, "None, 32, 32, 3")
    assert list(controller.document.nodes[nid].config["batch_shape"]) == [None, 32, 32, 3]
    type_into(qtbot, w, "None, 0, 3")
    assert list(controller.document.nodes[nid].config["batch_shape"]) == [None, 32, 32, 3]
    assert "positive" in inspector.error.text()


def test_rename_and_refused_duplicate(qtbot, inspector, controller):
    a = controller.add_layer("Dense")
    b = controller.add_layer("Dense")
    type_into(qtbot, inspector.name_edit, "head")
    assert controller.document.nodes[b].name == "head"
    controller.set_selection([a])
    type_into(qtbot, inspector.name_edit, "head")
    assert controller.document.nodes[a].name == "dense"
    assert "already exists" in inspector.error.text()
    controller.undo_stack.undo()  # the rename
    controller.set_selection([b])
    assert inspector.name_edit.text() == controller.document.nodes[b].name


def test_shows_shape_params_and_problems(inspector, chain, controller):
    ids = chain("Flatten", ("Dense", {"units": 10}))
    controller.set_selection([ids[-1]])
    assert "(None, 10)" in inspector.info.text()
    assert "7,850" in inspector.info.text()
    assert not inspector.problems.isVisible()
    lone = controller.add_layer("Dense")
    assert inspector.node_id == lone and inspector.problems.isVisible()
    assert inspector.problems.text()


def test_follows_document_replacement_and_removal(inspector, controller):
    from visualkeras_app.document.graph import Document

    nid = controller.add_layer("Dense")
    controller.remove_nodes([nid])
    assert inspector.node_id is None and inspector.empty.isVisible()
    controller.add_layer("Dense")
    controller.replace_document(Document())
    assert inspector.node_id is None
    nid = controller.add_layer("LSTM")
    assert inspector.node_id == nid and "units" in inspector.editors


def test_parse_and_format_helpers():
    assert format_value([None, 28, 28, 1]) == "None, 28, 28, 1"
    assert format_value(None) == "" and format_value(True) == "true"
    assert parse_text("tuple", "(2, 2)", [3, 3]) == [2, 2]
    assert parse_text("tuple", "2", (3, 3)) == (2, 2)
    assert parse_text("shape", "None, 4", [None, 1]) == [None, 4]
    assert parse_text("optional_int", "", 3) is None
    assert parse_text("float", "1e-3", 0.1) == 1e-3
    with pytest.raises(ValueError, match="not a whole number"):
        parse_text("optional_int", "x", None)
    with pytest.raises(ValueError, match="at least one"):
        parse_text("tuple", "", [3, 3])
