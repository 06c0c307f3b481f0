"""Starting the editor: the QApplication, the main window, then (once it is on screen) the engine.

Nothing here imports ``engine`` or torch: the window appears first, its Layers panel already filled from the
shipped manifest, and imports them on a background thread once it has painted (:mod:`visualkeras_app.startup`;
:meth:`visualkeras_app.mainwindow.MainWindow.start` finishes the start when they have loaded).
"""
from __future__ import annotations

import sys

# Before any Qt call: keeps PySide6 6.12's reference leak on None/True from aborting on Python 3.11.
from visualkeras_app.qt_refs import pin_singletons

pin_singletons()

APP_NAME = "visualkeras-app"
ORGANIZATION = "visualkeras"


def make_application(argv=None):
    """The process's QApplication (created once, named so QSettings and the desktop know the app)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    from visualkeras_app import __version__

    app.setApplicationVersion(__version__)
    if app.windowIcon().isNull():
        import os

        from PySide6.QtGui import QIcon

        from visualkeras_app import resources_path

        app.setWindowIcon(QIcon(os.path.join(resources_path(), "icons", "visualkeras-app.svg")))
    return app


def main_window_for_tests(file=None, settings=None, offer_recovery=False):
    """A MainWindow on the running QApplication, started (engine loaded, palette filled) but not shown.

    Pass ``settings`` (e.g. ``QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)``) to keep a test's
    recent files and window layout out of the user's own.
    """
    make_application()
    from visualkeras_app.mainwindow import MainWindow

    win = MainWindow(file=file, settings=settings, offer_recovery=offer_recovery)
    win.start()
    return win


def open_window(file=None, settings=None, template=None):
    """The editor window as a user gets it, shown (on ``file``, or a new document from ``template``, a key):
    an exception that a slot lets out shows a dialog (PySide would only print it, and the click would seem
    to do nothing)."""
    make_application()
    from visualkeras_app import error_dialog
    from visualkeras_app.mainwindow import MainWindow

    win = MainWindow(file=file, settings=settings, template=template)
    error_dialog.install(parent=lambda: win)
    win.show()
    return win


def run(file=None, argv=None, template=None) -> int:
    """Open the editor window (on ``file``, or on template ``template``, when given) and run the event loop;
    returns the exit code."""
    app = make_application(argv)
    win = open_window(file, template=template)  # noqa: F841 - kept alive by this frame until the loop ends
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1] if len(sys.argv) > 1 else None))
