"""Help ▸ Keyboard Shortcuts lists the menus' own actions and keys (read from them, so it cannot drift), and
its filter narrows the list."""
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from visualkeras_app.mainwindow import MainWindow  # noqa: E402
from visualkeras_app.shortcuts import ShortcutsDialog  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.show()
    win.start()
    return win


def test_the_sheet_lists_every_menu_command_with_its_keys(qtbot, window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&Keyboard Shortcuts").trigger()
    dialog = window.findChild(ShortcutsDialog)
    qtbot.waitUntil(dialog.isVisible)
    rows = dialog.shown_rows()
    assert ("Train", "Train on MNIST", "Ctrl+T") in rows
    assert ("File", "Save", "Ctrl+S") in rows and ("File ▸ Export", "Export…", "Ctrl+E") in rows
    assert ("Edit", "Redo", "Ctrl+Shift+Z, Ctrl+Y") in rows
    assert any(r[0] == "Canvas" and "Right-click" in r[2] for r in rows)
    commands = {r[1] for r in rows}
    for act in (window.act_fit, window.act_layout_lr, window.training.act_evaluate, window.act_shortcuts):
        assert act.text().replace("&", "") in commands
    qtbot.keyClicks(dialog.filter, "ctrl+s")
    shown = dialog.shown_rows()
    assert ("File", "Save", "Ctrl+S") in shown and ("File", "Save As…", "Ctrl+Shift+S") in shown
    assert all("ctrl+s" in " ".join(r).lower() for r in shown)
    assert not dialog.isModal()  # it can stay open beside the canvas
