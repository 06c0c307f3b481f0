"""The code dock: the document as Keras-style Python using ``engine``, kept up to date as it changes.

Regeneration is coalesced on a zero-delay timer, so a batch of edits (a paste, an auto-layout, an
undo of many steps) costs one ``generate_code`` call. A big model's code (``INCREMENTAL_NODES`` layers and
more) is written in slices of about 20 ms, so opening a 1,000-layer application leaves the window answering;
a document opened on a worker thread brings its code with it (``document.prepared``). The editor then
changes only the lines that differ from what it shows (an edit of one layer replaces one line), and a
long run of new lines goes in a few hundred at a time between which the window paints and answers (the
syntax highlighter colours only the lines that go in).
"""
from __future__ import annotations

import keyword
import time

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QGuiApplication, QSyntaxHighlighter, QTextCharFormat,
                           QTextCursor)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

# From this many layers the code is written in slices, with the window answering in between.
INCREMENTAL_NODES = 300
# At most this many lines go into the editor at once; more are put in over several turns of the event loop.
INSERT_LINES = 200


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
        self.editor.document().setUndoRedoEnabled(False)  # read-only: an undo history would only take memory
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
        self._slice_timer = QTimer(self)  # the slices of a big model's code (see refresh)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._next_slice)
        self._insert_timer = QTimer(self)  # the slices of a long run of new lines (see _apply_lines)
        self._insert_timer.setSingleShot(True)
        self._insert_timer.setInterval(0)
        self._insert_timer.timeout.connect(self._insert_slice)
        self._job = None
        self._insert = None  # (first line, lines still to put in) while a long run goes into the editor
        self._shown = []  # the lines the editor holds: its text is "\n".join(self._shown)
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
        """The code of the current document (a refresh still waiting on its timer, a slice job or lines
        still going into the editor are finished first)."""
        if self._timer.isActive():
            self.refresh()
        if self._job is not None:  # a big model's code still being made: finish it now for the reader
            self._finish_job()
        self._finish_insert()
        return self.editor.toPlainText()

    def refresh(self):
        """Regenerate now (the timer calls this; tests may too). A big model's code is made in slices of
        about 20 ms between which the window paints and answers (``busy`` until it is done)."""
        self._timer.stop()
        self._job = None
        doc = self.controller.document
        if not doc.nodes:
            self._set_text("")
            self.status.setText("Empty model")
            return
        from visualkeras_app.document.prepared import prepared

        ready = prepared(doc, "code")  # written on the worker thread that opened the document
        if ready is not None:
            self._run(lambda: ready)
            return
        from visualkeras_app.document.codegen import iter_code

        lines = iter_code(doc, doc.result)  # inference ran on the edit that scheduled this refresh
        if len(doc.nodes) < INCREMENTAL_NODES:
            self._run(lambda: list(lines))
            return
        self._job = (doc, lines, [])
        self.status.setText(f"Writing the code of {len(doc.nodes):,} layers…")
        self._slice_timer.start()

    @property
    def busy(self) -> bool:
        return self._job is not None or self._insert is not None

    def _next_slice(self):
        if self._job is None:
            return
        doc, lines, done = self._job
        if doc is not self.controller.document:
            self._job = None
            return
        end = time.perf_counter() + 0.02
        try:
            for line in lines:
                done.append(line)
                if len(done) % 32 == 0 and time.perf_counter() > end:
                    self._slice_timer.start()
                    return
        except Exception as exc:  # the generator failed part-way: shown as a whole run shows it
            self._job = None
            error = exc

            def fail():
                raise error

            self._run(fail)
            return
        self._job = None
        self._run(lambda: done)

    def _finish_job(self):
        doc, lines, done = self._job
        self._job = None
        self._run(lambda: done + list(lines))

    def _run(self, make_lines):
        doc = self.controller.document
        try:
            lines = list(make_lines())
            self.status.setText("Python using engine (the Keras 3 API)" if not _problems(doc)
                                else "The graph has problems: the code will not run until they are fixed")
        except Exception as exc:  # the dock shows why instead of going stale
            problems = _problems(doc)
            lines = [f"# No code while the graph has problems: {exc}"] if not problems else \
                ["# No code while the graph has problems:"] + [f"#  - {p.message}" for p in problems]
            lines.append("")
            self.status.setText("Fix the problems to see the code")
        self._apply_lines(lines)

    def _set_text(self, code):
        self._apply_lines(code.split("\n") if code else [])

    def _apply_lines(self, lines):
        """Make the editor show ``lines``: only the lines between the common beginning and end of what it
        shows and ``lines`` are replaced; more than ``INSERT_LINES`` new ones go in over several slices."""
        self._insert_timer.stop()
        self._insert = None
        old = self._shown
        if old == lines:
            return
        p, most = 0, min(len(old), len(lines))
        while p < most and old[p] == lines[p]:
            p += 1
        s = 0
        while s < most - p and old[-1 - s] == lines[-1 - s]:
            s += 1
        middle = lines[p:len(lines) - s]
        if len(middle) <= INSERT_LINES:
            self._replace(p, len(old) - s, middle)
            return
        self._replace(p, len(old) - s, middle[:INSERT_LINES])
        self._insert = (p + INSERT_LINES, middle[INSERT_LINES:])
        self._insert_timer.start()

    def _insert_slice(self):
        if self._insert is None:
            return
        at, rest = self._insert
        end = time.perf_counter() + 0.02
        while rest and time.perf_counter() < end:
            self._replace(at, at, rest[:INSERT_LINES])
            at, rest = at + len(rest[:INSERT_LINES]), rest[INSERT_LINES:]
        self._insert = (at, rest) if rest else None
        if rest:
            self._insert_timer.start()

    def _finish_insert(self):
        if self._insert is not None:
            at, rest = self._insert
            self._insert = None
            self._insert_timer.stop()
            self._replace(at, at, rest)

    def _replace(self, a, b, new):
        """Replace the editor's lines ``a`` to ``b`` (exclusive) by ``new``, keeping the reader's place."""
        shown = self._shown
        doc = self.editor.document()
        if b < len(shown):  # lines follow the range: replace whole lines, each with its line break
            start, stop = doc.findBlockByNumber(a).position(), doc.findBlockByNumber(b).position()
            text = "".join(line + "\n" for line in new)
        elif a > 0:  # the range runs to the end: from the end of the line before it
            before = doc.findBlockByNumber(a - 1)
            start, stop = before.position() + before.length() - 1, doc.characterCount() - 1
            text = "".join("\n" + line for line in new)
        else:
            start, stop = 0, doc.characterCount() - 1
            text = "\n".join(new)
        vbar, hbar = self.editor.verticalScrollBar(), self.editor.horizontalScrollBar()
        v, h = vbar.value(), hbar.value()
        cursor = QTextCursor(doc)
        cursor.setPosition(start)
        cursor.setPosition(stop, QTextCursor.KeepAnchor)
        cursor.insertText(text)
        shown[a:b] = new
        vbar.setValue(v)
        hbar.setValue(h)

    def copy_to_clipboard(self):
        QGuiApplication.clipboard().setText(self.text())
        self.status.setText("Copied to the clipboard")


def _problems(doc):
    """The errors of the last inference (warnings leave the code runnable)."""
    result = getattr(doc, "result", None)
    if result is None:
        return []
    return [p for p in result.problems if getattr(p, "severity", "error") == "error"]

