"""The code dock: the document as Keras-style Python using ``engine``, kept up to date as it changes.

Regeneration is coalesced on a zero-delay timer, so a batch of edits (a paste, an auto-layout, an
undo of many steps) costs one ``generate_code`` call.
"""
from __future__ import annotations

import keyword

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


def _fmt(color, bold=False, italic=False):
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, numbers and comments, enough for generated model code."""

    def __init__(self, document):
        super().__init__(document)
        kw = "|".join(keyword.kwlist)
        self.rules = [
            (QRegularExpression(rf"\b({kw})\b"), _fmt("#7a2ea0", bold=True)),
            (QRegularExpression(r"\b[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\b"), _fmt("#1060a0")),
            (QRegularExpression(r"\b[A-Z][A-Za-z0-9_]*(?=\()"), _fmt("#206030")),
            (QRegularExpression(r"\b[a-z_][a-z0-9_]*(?==)"), _fmt("#905010")),
            (QRegularExpression(r"\"[^\"\\]*(\\.[^\"\\]*)*\"|'[^'\\]*(\\.[^'\\]*)*'"), _fmt("#a03020")),
            (QRegularExpression(r"#[^\n]*"), _fmt("#808080", italic=True)),
        ]

    def highlightBlock(self, text):
        for rx, fmt in self.rules:
            it = rx.globalMatch(text)
            while it.hasNext():
                m = it.next()
                self.setFormat(m.capturedStart(), m.capturedLength(), fmt)


class CodePanel(QWidget):
    """Read-only generated code with a Copy button."""

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.editor = QPlainTextEdit(self)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
        self.editor.setFont(font)
        self.editor.setTabStopDistance(4 * self.editor.fontMetrics().horizontalAdvance(" "))
        self.editor.setPlaceholderText("The model's code appears here as you build it.")
        self.highlighter = PythonHighlighter(self.editor.document())
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.status = QLabel(self)
        self.status.setStyleSheet("color: palette(mid);")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.editor, 1)
        layout.addLayout(bar)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self._doc = None
        controller.document_replaced.connect(self._on_document_replaced)
        self._attach(controller.document)
        self.schedule()

    def _attach(self, doc):
        if self._doc is not None:
            self._doc.changed.disconnect(self.schedule)
        self._doc = doc
        if doc is not None:
            doc.changed.connect(self.schedule)

    def _on_document_replaced(self):
        self._attach(self.controller.document)
        self.schedule()

    def schedule(self):
        self._timer.start()

    def text(self) -> str:
        return self.editor.toPlainText()

    def refresh(self):
        """Regenerate now (the timer calls this; tests may too)."""
        self._timer.stop()
        doc = self.controller.document
        if not doc.nodes:
            self._set_text("")
            self.status.setText("Empty model")
            return
        try:
            from visualkeras_app.document.codegen import generate_code

            code = generate_code(doc)
            self.status.setText("Python using engine (the Keras 3 API)" if not _problems(doc)
                                else "The graph has problems: the code will not run until they are fixed")
        except Exception as exc:  # the dock shows why instead of going stale
            problems = _problems(doc)
            lines = [f"# No code while the graph has problems: {exc}"] if not problems else \
                ["# No code while the graph has problems:"] + [f"#  - {p.message}" for p in problems]
            code = "\n".join(lines) + "\n"
            self.status.setText("Fix the problems to see the code")
        self._set_text(code)

    def _set_text(self, code):
        if code == self.editor.toPlainText():
            return
        # Keep the reader's place while the code changes under them.
        vbar, hbar = self.editor.verticalScrollBar(), self.editor.horizontalScrollBar()
        v, h = vbar.value(), hbar.value()
        self.editor.setPlainText(code)
        vbar.setValue(v)
        hbar.setValue(h)

    def copy_to_clipboard(self):
        QGuiApplication.clipboard().setText(self.editor.toPlainText())
        self.status.setText("Copied to the clipboard")


def _problems(doc):
    """The errors of the last inference (warnings leave the code runnable)."""
    result = getattr(doc, "result", None)
    if result is None:
        return []
    return [p for p in result.problems if getattr(p, "severity", "error") == "error"]

