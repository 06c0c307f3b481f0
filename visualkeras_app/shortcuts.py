"""Help ▸ Keyboard Shortcuts: every command of the window's menus with its keys, read from the actions
themselves (so the sheet cannot drift from the menus), and the canvas gestures that have no menu item."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLineEdit, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

# Mouse and key gestures of the canvas that no menu lists.
GESTURES = (
    ("Canvas", "Add a layer", "Double-click it in the Layers panel, or drag it onto the canvas"),
    ("Canvas", "Add a layer below the selected one, connected", "Double-click it in the Layers panel, or drop it"),
    ("Canvas", "Insert a layer into a connection", "Drop it from the Layers panel onto the connection"),
    ("Canvas", "Connect two layers", "Drag from an output port to an input port"),
    ("Canvas", "Add a connected layer (type to search)", "Drag from a port onto empty canvas"),
    ("Canvas", "Select several layers", "Drag a rectangle on the empty canvas, or Ctrl+click"),
    ("Canvas", "Zoom around the cursor", "Mouse wheel"),
    ("Canvas", "Pan", "Middle-drag, or Space+drag"),
    ("Canvas", "Delete the selection", "Delete or Backspace"),
    ("Canvas", "Cancel a connection drag", "Escape"),
    ("Canvas", "Menus: add, add after, insert, disconnect, duplicate, copy, delete",
     "Right-click the canvas, a layer or a connection"),
)


def _keys(action) -> str:
    return ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts() if not s.isEmpty())


def shortcut_rows(window) -> list:
    """(menu, command, keys) for every action of ``window``'s menu bar (submenus filled when they open, such
    as the template list, are left out), then the canvas gestures."""
    rows = []

    def walk(menu, path):
        for act in menu.actions():
            if act.isSeparator() or not act.isVisible():
                continue
            sub = act.menu()
            if sub is not None:
                if sub.actions():  # filled at construction, not on opening (templates, recent files)
                    walk(sub, f"{path} ▸ {act.text().replace('&', '')}")
                continue
            rows.append((path, act.text().replace("&", "").split("\t")[0], _keys(act)))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", ""))
    return rows + list(GESTURES)


class ShortcutsDialog(QDialog):
    """The shortcut sheet: a table of commands and keys, with a filter field."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = shortcut_rows(window)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter: a command, a menu or a key (e.g. train, ctrl+s)")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Menu", "Command", "Keys"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # a sheet, not a form
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.filter.textChanged.connect(self.apply_filter)
        self.resize(640, 560)

    def apply_filter(self, text):
        words = text.lower().split()
        for r, row in enumerate(self.rows):
            hay = " ".join(row).lower()
            self.table.setRowHidden(r, not all(w in hay for w in words))

    def shown_rows(self) -> list:
        return [self.rows[r] for r in range(len(self.rows)) if not self.table.isRowHidden(r)]


def show_shortcuts(window) -> ShortcutsDialog:
    """Show the sheet (not modal: it can stay open beside the canvas); one per window."""
    dialog = window.findChild(ShortcutsDialog)
    if dialog is None:
        dialog = ShortcutsDialog(window)
    dialog.filter.clear()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    dialog.filter.setFocus()
    return dialog
