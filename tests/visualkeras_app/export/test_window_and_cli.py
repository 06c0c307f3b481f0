"""File > Export in the window, the canvas image actions, and ``visualkeras-app export``."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from visualkeras_app.cli import main

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from visualkeras_app.mainwindow import MainWindow

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: errors.append((title, text)))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: errors.append((title, text)))
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    win.errors = errors
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.is_started, timeout=10000)
    assert win.new_from_template("residual_block")
    yield win
    win.close()


def test_file_menu_has_the_export_actions(window):
    file_menu = window.menuBar().actions()[0].menu()
    export = next(a.menu() for a in file_menu.actions() if a.menu() is not None and "Export" in a.text())
    texts = [a.text() for a in export.actions()]
    assert "&Export…" in texts and "&Copy Canvas as Image" in texts and "Export &Canvas as SVG/PNG…" in texts
    assert window.act_export.shortcut().toString() == "Ctrl+E"


def test_export_dialog_writes_the_chosen_format(window, tmp_path, monkeypatch):
    target = tmp_path / "net"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "Layered diagram (*.png *.svg *.pdf)"))
    window.act_export.trigger()
    assert (tmp_path / "net.png").read_bytes().startswith(b"\x89PNG")
    assert "net.png" in window.statusBar().currentMessage()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "net.keras"), "Keras model (*.keras)"))
    window.act_export.trigger()
    assert (tmp_path / "net.keras").is_file()
    assert "random" in window.statusBar().currentMessage()  # a template has no trained weights
    assert not window.errors


@pytest.mark.slow  # a window each; the export menu and dialog tests stay in the fast loop
def test_export_error_is_a_plain_dialog(window, tmp_path, monkeypatch):
    from visualkeras_app.export import ui

    monkeypatch.setattr(ui, "_error", lambda win, title, text: win.errors.append((title, text)))
    assert ui.export_document(window, str(tmp_path / "m.svg"), rankdir="XX") is None
    assert window.errors and "rankdir" in window.errors[-1][1] and "Traceback" not in window.errors[-1][1]


@pytest.mark.slow  # a window each; the export menu and dialog tests stay in the fast loop
def test_canvas_copy_and_export(window, tmp_path, monkeypatch):
    image = window.act_copy_canvas.trigger() or QGuiApplication.clipboard().image()
    assert not image.isNull() and image.width() > 100 and image.height() > 300
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "c.svg"), "SVG image (*.svg)"))
    window.act_export_canvas.trigger()
    text = " ".join(el.text or "" for el in ET.parse(tmp_path / "c.svg").getroot().iter())
    assert "conv_a" in text
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "c"), "PNG image (*.png)"))
    window.act_export_canvas.trigger()
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_cli_export_template_and_file(tmp_path, capsys):
    assert main(["export", "seed_mlp", str(tmp_path / "m.keras")]) == 0
    assert "m.keras" in capsys.readouterr().out
    # The exported file exports again, its weights kept.
    assert main(["export", str(tmp_path / "m.keras"), str(tmp_path / "m_torch.py"), "--torch-weights", "pt"]) == 0
    assert (tmp_path / "m_torch.pt").is_file()
    assert main(["export", "residual_block", str(tmp_path / "d.svg"), "--style", "layered", "--no-shapes"]) == 0
    text = " ".join(el.text or "" for el in ET.parse(tmp_path / "d.svg").getroot().iter())
    assert "conv_a" in text and "28×28×32" not in text
    assert main(["export", "residual_block", str(tmp_path / "g.png"), "--rankdir", "LR", "--dpi", "50",
                 "--renderer", "qt"]) == 0
    out = capsys.readouterr().out
    assert "built-in" in out


def test_cli_export_errors(tmp_path, capsys):
    assert main(["export", "no_such_thing", str(tmp_path / "m.svg")]) == 2
    assert "neither a file nor a template" in capsys.readouterr().err
    assert main(["export", "seed_mlp", str(tmp_path / "m.txt")]) == 1
    assert "extension" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "seed_mlp", str(tmp_path / "m.svg"), "--rankdir", "BT"])


@pytest.mark.slow
def test_cli_export_weights_round_trip(tmp_path):
    """The weights a .keras file carries are the ones the exported script loads."""
    import engine

    from tests.visualkeras_app.export.conftest import build, predict, run_script

    model, xs = build("seed_cnn")
    engine.saving.save_model(model, tmp_path / "trained.keras")
    assert main(["export", str(tmp_path / "trained.keras"), str(tmp_path / "out" / "s_torch.py")]) == 0
    got = run_script(tmp_path / "out" / "s_torch.py", xs, tmp_path,
                     "model(__import__('torch').from_numpy(xs[0])).detach().numpy()", block_engine=True)
    np.testing.assert_allclose(got, predict(model, xs), atol=1e-5)
