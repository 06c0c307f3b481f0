"""The help windows: a layer's documentation (F1) and the Getting Started page. Both are non-modal, so the user can
keep them open beside the canvas; one of each per main window, reused."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from visualkeras_app.help.getting_started import GETTING_STARTED_HTML


class HelpDialog(QDialog):
    """A page of HTML in a browser, with a Close button."""

    def __init__(self, title, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setOpenLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser, 1)
        lay.addWidget(buttons)
        self.resize(640, 560)

    def set_page(self, html):
        self.browser.setHtml(html)
        self.browser.verticalScrollBar().setValue(0)

    def text(self) -> str:
        return self.browser.toPlainText()


def _dialog(window, attr, title):
    dlg = getattr(window, attr, None)
    if dlg is None:
        dlg = HelpDialog(title, window)
        setattr(window, attr, dlg)
    return dlg


def help_target(window):
    """(class name, node id or None) that F1 documents: the palette's highlighted layer when the palette has the
    focus, else the one layer selected on the canvas, else the palette's highlighted layer; None when none."""
    palette = getattr(window, "palette_panel", None)
    palette_class = None
    if palette is not None:
        item = palette.tree.currentItem()
        from visualkeras_app.panels.palette import CLASS_ROLE

        palette_class = item.data(0, CLASS_ROLE) if item is not None else None
        focus = window.focusWidget()
        if palette_class and focus is not None and (focus is palette or palette.isAncestorOf(focus)):
            return palette_class, None
    ids = list(window.controller.selection())
    if len(ids) == 1 and ids[0] in window.controller.document.nodes:
        return window.controller.document.nodes[ids[0]].class_name, ids[0]
    if palette_class:
        return palette_class, None
    return None


def show_layer_help(window):
    """F1: show the documentation of `help_target`; a status message says what to select when nothing is."""
    target = help_target(window)
    if target is None:
        window.show_message("Select a layer on the canvas, or highlight one in the Layers panel, then press F1 "
                            "for its documentation.")
        return None
    from visualkeras_app.help.layer_doc import layer_doc_html

    class_name, node_id = target
    dlg = _dialog(window, "layer_help_dialog", "Layer Documentation")
    dlg.set_page(layer_doc_html(class_name, window.controller.document, node_id))
    dlg.setWindowTitle(f"{class_name} — Layer Documentation")
    dlg.show()
    dlg.raise_()
    return dlg


def show_getting_started(window):
    dlg = _dialog(window, "getting_started_dialog", "Getting Started")
    dlg.set_page(GETTING_STARTED_HTML)
    dlg.setAttribute(Qt.WA_DeleteOnClose, False)
    dlg.show()
    dlg.raise_()
    return dlg
