"""A window grown past its screen by docks stacked before they were tabified is shrunk back onto it (1366x821 on a
1366x768 laptop); one whose least size cannot fit the screen is left alone."""
from PySide6.QtWidgets import QLabel, QMainWindow

from visualkeras_app.training_ui.docks import fit_to_screen


def test_fit_to_screen(qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    win.setCentralWidget(QLabel("x"))
    avail = win.screen().availableGeometry()
    win.resize(avail.width() + 50, avail.height() + 53)
    win.show()
    assert not fit_to_screen(win)  # offscreen (the tests' platform): windows sized past its screen on purpose
    assert fit_to_screen(win, real_screens_only=False)
    assert win.width() <= avail.width() and win.height() <= avail.height()
    assert not fit_to_screen(win, real_screens_only=False)  # it fits: nothing to do
    big = QLabel("y")
    big.setMinimumSize(avail.width() + 100, 10)
    win.setCentralWidget(big)
    win.resize(avail.width() + 120, avail.height() + 40)
    qtbot.wait(10)  # the new minimum size takes effect
    assert win.minimumSizeHint().width() > avail.width()
    assert not fit_to_screen(win, real_screens_only=False)  # cannot fit anyway
