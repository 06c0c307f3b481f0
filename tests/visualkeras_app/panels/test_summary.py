"""The summary dock: Keras's summary table from shape inference."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from visualkeras_app.panels.summary import SummaryPanel, readable_size, summary_text


@pytest.fixture
def panel(qtbot, controller):
    p = SummaryPanel(controller)
    qtbot.addWidget(p)
    p.resize(700, 400)
    p.show()
    qtbot.waitExposed(p)
    return p


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=2000)


def test_sequential_table_matches_keras(qtbot, panel, chain, keras):
    chain(("Conv2D", {"filters": 8}), "Flatten", ("Dense", {"units": 10}))
    settle(qtbot, panel)
    assert panel.sequential and panel.table.isColumnHidden(3)
    rows = panel.row_texts()
    assert [r[0] for r in rows] == ["conv2d (Conv2D)", "flatten (Flatten)", "dense (Dense)"]
    # The same numbers as real Keras's model.summary() for that model.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    assert [r[1] for r in rows] == [str(tuple(l.output.shape)) for l in model.layers]
    assert [r[2] for r in rows] == [f"{l.count_params():,}" for l in model.layers]
    assert f"{model.count_params():,}" in panel.totals.text()
    assert "Sequential" in panel.title.text()


def test_functional_table_shows_connections_and_totals(qtbot, panel, chain, controller):
    ids = chain(("Dense", {"units": 4}))
    other = controller.add_layer("Dense")
    controller.set_param(other, "units", 4)
    controller.connect(ids[0], other)
    add = controller.add_layer("Add")
    controller.connect(ids[1], add)
    controller.connect(other, add)
    settle(qtbot, panel)
    assert not panel.sequential
    assert not panel.table.isColumnHidden(3)
    rows = panel.row_texts()
    assert rows[0][0] == "input_layer (InputLayer)"
    add_row = next(r for r in rows if r[0].startswith("add"))
    assert "dense[0][0]" in add_row[3] and "dense_1[0][0]" in add_row[3]
    assert "Functional" in panel.title.text()


def test_click_selects_and_copy_as_text(qtbot, panel, chain, controller):
    ids = chain("Flatten", ("Dense", {"units": 10}))
    settle(qtbot, panel)
    rect = panel.table.visualRect(panel.model.index(1, 0))
    qtbot.mouseClick(panel.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert controller.selection() == [ids[2]]
    panel.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert text == summary_text(controller.document)
    assert 'Model: "sequential"' in text and "Total params: 7,850 (30.66 KB)" in text
    assert "┏" in text and "dense (Dense)" in text


def test_empty_and_unknown_shapes(qtbot, panel, controller):
    assert panel.row_count() == 0 and "Empty" in panel.title.text()
    controller.add_layer("Dense")  # no input: its shape is unknown
    settle(qtbot, panel)
    assert panel.row_texts()[0][1] == "?"
    assert readable_size(1024) == "1.00 KB"
