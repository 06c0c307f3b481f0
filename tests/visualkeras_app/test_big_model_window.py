"""A big Keras file opened in the window as a user opens it (File > Open, the read in the background): the canvas
makes items only near its view, and a layer picked in the Summary dock far down the chain is made, selected and
scrolled to (issue 18)."""
import json

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from visualkeras_app.mainwindow import MainWindow  # noqa: E402
from visualkeras_app.panels.summary import NODE_ROLE  # noqa: E402

LAYERS = 1200  # past the canvas's 500-layer line and the 64 KB of a background read


def write_chain(path, n):
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": 4, "name": f"d{i}"}} for i in range(n)]
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"name": "chain", "layers": layers}}))
    return str(path)


@pytest.mark.slow
def test_a_big_file_opens_with_few_canvas_items_and_a_summary_click_reveals_a_far_layer(qtbot, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: pytest.fail(f"error dialog: {a[2]}"))
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.is_started, timeout=20000)
    assert win.open_file(write_chain(tmp_path / "chain.json", LAYERS), ask=False)
    scene, view = win.scene, win.view
    doc = win.controller.document
    assert len(doc.nodes) == LAYERS + 1 and scene.virtual

    def shows_items():
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        return scene.region_covers(seen) and not scene.realize_pending() and bool(scene.node_items())

    qtbot.waitUntil(shows_items, timeout=10000)
    assert len(scene.node_items()) < 80 and len(scene.edge_items()) < 80
    for item in scene.node_items():
        assert (item.x(), item.y()) == tuple(doc.nodes[item.node_id].pos)

    far = next(nid for nid, node in doc.nodes.items() if node.name == "d1150")
    assert far not in {i.node_id for i in scene.node_items()}
    panel = win.summary_panel
    qtbot.waitUntil(lambda: panel.row_count() >= LAYERS, timeout=20000)
    model = panel.table.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data(NODE_ROLE) == far)
    panel.table.scrollTo(model.index(row, 0))
    qtbot.waitUntil(lambda: panel.table.visualRect(model.index(row, 0)).isValid(), timeout=5000)
    qtbot.mouseClick(panel.table.viewport(), Qt.LeftButton, pos=panel.table.visualRect(model.index(row, 0)).center())
    assert win.controller.selection() == [far]
    qtbot.waitUntil(shows_items, timeout=10000)
    item = scene.node_item(far)
    assert item.isSelected()
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(item.sceneBoundingRect())
    win.close()
