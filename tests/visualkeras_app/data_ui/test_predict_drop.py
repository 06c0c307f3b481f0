"""Images dropped onto the Results dock: the top-5 classes of each, as ``visualkeras-app predict`` gives them."""
import csv
import io

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from visualkeras_app import predict


def drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(20, 20)
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    enter.ignore()  # as Qt delivers it: the widget accepts it or not
    QApplication.sendEvent(widget, enter)
    accepted = enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    return accepted


def test_dropped_images_get_the_clis_top_five(qtbot, main_window, tmp_path, capsys):
    import engine
    from engine import layers

    engine.utils.set_random_seed(3)
    model = engine.Sequential([layers.Input((8, 8, 1)), layers.Flatten(), layers.Dense(6, activation="softmax")])
    path = tmp_path / "m.keras"
    model.save(path)
    win = main_window
    assert win.open_file(str(path))
    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (10, 12), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"no")
    dock = win.training.results_dock
    (tmp_path / "notes.txt").write_text("not an image")
    assert not drop(dock, [tmp_path / "notes.txt"])  # not an image: refused
    assert drop(dock, [folder])
    view = win.dataset_menu.predict_drop.view
    assert win.training.current_results_view() is view
    got = {r[0]: r[1] for r in view.results}
    assert len(view.results) == 4 and got[str(folder / "broken.png")] is None
    assert "no trained weights" not in view.note.text()
    capsys.readouterr()
    predict.run([str(path), str(folder), "--csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for i in range(3):
        cli = [(r["class"], float(r["probability"])) for r in rows if r["file"] == str(folder / f"{i}.png")]
        ranked = got[str(folder / f"{i}.png")]
        assert [n for n, _ in ranked] == [n for n, _ in cli] and len(ranked) == 5
        np.testing.assert_allclose([p for _, p in ranked], [p for _, p in cli], atol=1e-6)
