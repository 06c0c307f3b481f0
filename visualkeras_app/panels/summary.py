"""The summary dock: Keras's ``model.summary()`` table, computed from the document's shape inference.

No model is built: the rows come from ``document.summary`` (shapes and parameter counts from
``InferenceResult``, in the compiled model's layer order), the same table ``visualkeras-app summary``
prints. A chain from one Input reads like a Sequential summary (no Input row, no "Connected to"
column), anything else like a functional one.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFontDatabase, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QStyle,
                               QTableView, QVBoxLayout, QWidget)

NODE_ROLE = Qt.UserRole + 1
HEADERS = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
_PROBLEM_COLOR = QColor("#b02020")


def readable_size(nbytes: float) -> str:
    """Bytes as Keras prints them in summaries ("1.21 MB")."""
    for unit in ["B", "KB", "MB", "GB", "TB"]:
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def summary_rows(doc):
    """``(sequential_like, rows)`` as ``document.summary.summary_rows`` gives them (the compiled model's
    layer order), or ``(False, [])`` for an empty document (which must not load the engine)."""
    if not doc.nodes:
        return False, []
    from visualkeras_app.document.prepared import prepared

    ready = prepared(doc, "summary")  # made on the worker thread that opened the document
    if ready is not None:
        return ready
    from visualkeras_app.document.summary import summary_rows as rows_of

    return rows_of(doc, doc.result)


def summary_text(doc) -> str:
    """The summary as Keras prints it (box-drawn table and totals), at Keras's default widths."""
    from visualkeras_app.document.summary import summary_text as text_of

    sequential, _ = summary_rows(doc)
    return text_of(doc, doc.result, line_length=88 if sequential else 108)


def _totals(doc):
    """``[(label, count, bytes)]`` for the three Keras total lines."""
    r = doc.result
    if r is None or not doc.nodes:
        return [("Total params", 0, 0), ("Trainable params", 0, 0), ("Non-trainable params", 0, 0)]
    tb, nb = r.trainable_bytes, r.non_trainable_bytes
    return [("Total params", r.total_params, tb + nb), ("Trainable params", r.trainable_params, tb),
            ("Non-trainable params", r.non_trainable_params, nb)]


class SummaryModel(QAbstractTableModel):
    """The rows as a table model: the view asks for the cells it paints, so showing a 20,000-layer summary
    costs what showing a 20-layer one does (a ``QTableWidget`` made four items per row on the GUI thread)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = []
        self.problems = {}  # node id -> the problems of the last inference about it
        self.mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)

    def set_rows(self, rows, problems):
        self.beginResetModel()
        self.rows, self.problems = rows, problems
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole:
            return int(Qt.AlignLeft | Qt.AlignVCenter)
        return None

    def text(self, row, column):
        r = self.rows[row]
        if column == 0:
            return f"{r['name']} ({r['class_name']})"
        if column == 1:
            return r["output_shape"]
        if column == 2:
            return r["params"]
        return ", ".join(r["connected_to"]) or "-"

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = index.row(), index.column()
        if role == Qt.DisplayRole:
            return self.text(row, col)
        if role == NODE_ROLE:
            return self.rows[row]["id"]
        if role == Qt.FontRole and col in (1, 2):
            return self.mono
        if role == Qt.TextAlignmentRole and col == 2:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        problems = self.problems.get(self.rows[row]["id"])
        if problems:
            if role == Qt.ForegroundRole:
                return _PROBLEM_COLOR
            if role == Qt.ToolTipRole:
                return "\n".join(p.message for p in problems)
        return None


class SummaryPanel(QWidget):
    """The table, the totals and a "Copy as text" button. A click on a row selects its node."""

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.title = QLabel(self)
        self.model = SummaryModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        # Shapes and counts take what they need; names and connections share the rest, so that no
        # column hides behind a horizontal scroll bar in a narrow dock.
        # (Shapes and counts are sized from their longest text in the fixed font, see _size_columns: sized to
        # contents, the view would ask the model for every cell's text and font.)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.Interactive)
        header.setSectionResizeMode(2, QHeaderView.Interactive)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.mono = self.model.mono
        self.totals = QLabel(self)
        self.totals.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.totals.setWordWrap(True)
        self.copy_button = QPushButton("Copy as text", self)
        self.copy_button.setToolTip("Copy the summary as model.summary() prints it")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.totals, 1)
        bottom.addWidget(self.copy_button, 0, Qt.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self._doc = None
        self.table.clicked.connect(self._on_clicked)
        controller.document_replaced.connect(self._on_document_replaced)
        self._attach(controller.document)
        self.refresh()

    def _attach(self, doc):
        if self._doc is not None:
            self._doc.inferred.disconnect(self._schedule)
            self._doc.changed.disconnect(self._schedule)
        self._doc = doc
        doc.inferred.connect(self._schedule)
        doc.changed.connect(self._schedule)  # renames change no shape but do change the table

    def _on_document_replaced(self):
        self._attach(self.controller.document)
        self.refresh()

    def _schedule(self, *_):
        self._timer.start()

    def refresh(self):
        self._timer.stop()
        doc = self.controller.document
        error = None
        try:
            sequential, rows = summary_rows(doc)
        except Exception as exc:  # a half-built graph must not break the dock
            sequential, rows, error = False, [], str(exc)
        rows = [r for r in rows if not (sequential and r["is_input"])]
        self.sequential = sequential
        self.table.setColumnHidden(3, sequential)
        problems = {}
        if doc.result is not None:
            problems = {nid: ps for nid, ps in (doc.result.node_problems or {}).items() if ps}
        self.model.set_rows(rows, problems)
        self._size_columns(rows)
        kind = "Sequential" if sequential else "Functional"
        self.title.setText(f"No summary: {error}" if error else
                           f"<b>{kind}</b> model · {len(doc.nodes)} layers" if doc.nodes else "Empty model")
        (_, total, total_size), (_, trainable, _), (_, frozen, _) = _totals(doc)
        self.totals.setText(f"Total params: <b>{total:,}</b> ({readable_size(total_size)}) &nbsp;·&nbsp; "
                            f"Trainable: {trainable:,} &nbsp;·&nbsp; Non-trainable: {frozen:,}")
        self.totals.setToolTip("<br>".join(f"{label}: {n:,} ({readable_size(size)})"
                                           for label, n, size in _totals(doc)))

    def _size_columns(self, rows):
        """Shapes and counts as wide as their longest text (in the fixed font) or their title."""
        header = self.table.horizontalHeader()
        mono = QFontMetrics(self.mono)
        pad = 2 * self.table.style().pixelMetric(QStyle.PM_FocusFrameHMargin, None, self.table) + 12
        for col, key in ((1, "output_shape"), (2, "params")):
            longest = max((r[key] for r in rows), key=len, default="")
            title = header.fontMetrics().horizontalAdvance(HEADERS[col]) + 16
            header.resizeSection(col, max(title, mono.horizontalAdvance(longest) + pad))

    def row_texts(self):
        """The visible table as lists of cell texts (tests)."""
        return [[self.model.text(i, j) for j in range(4) if not self.table.isColumnHidden(j)]
                for i in range(self.model.rowCount())]

    def row_count(self) -> int:
        return self.model.rowCount()

    def _on_clicked(self, index):
        nid = index.data(NODE_ROLE)
        if nid:
            self.controller.set_selection([nid])

    def copy_to_clipboard(self):
        QGuiApplication.clipboard().setText(summary_text(self.controller.document))
