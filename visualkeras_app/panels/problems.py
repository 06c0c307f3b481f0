"""The problems dock: every Problem of the last shape inference; a click selects the node it is about."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QStyle, QTreeWidget, QTreeWidgetItem, \
    QVBoxLayout, QWidget

NODE_ROLE = Qt.UserRole + 1

KIND_TITLES = {
    "shape": "Shape",
    "merge": "Merge",
    "missing_input": "Missing input",
    "unconnected": "Unconnected",
    "no_output": "No output",
    "no_input": "No input",
    "config": "Config",
    "cycle": "Cycle",
}


def is_warning(problem) -> bool:
    """Legal Keras that is most likely a mistake (e.g. a Dense head on a 4-D tensor)."""
    return getattr(problem, "severity", "error") == "warning"


def problem_node(problem):
    """The node a problem is about: its node, else the edge's target."""
    if getattr(problem, "node_id", None):
        return problem.node_id
    edge = getattr(problem, "edge", None)
    return getattr(edge, "dst", None) if edge is not None else None


class ProblemsPanel(QWidget):
    """Signals: ``node_activated(node_id)`` after a click selected a node (the window centres it),
    ``count_changed(int)``."""

    node_activated = Signal(str)
    count_changed = Signal(int)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Problem", "Layer", "Kind"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setWordWrap(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.empty = QLabel("No problems: the graph compiles to a model.", self)
        self.empty.setStyleSheet("color: palette(mid); padding: 4px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.empty)
        layout.addWidget(self.tree, 1)
        style = self.style()
        self._icons = {"error": style.standardIcon(QStyle.SP_MessageBoxCritical),
                       "warning": style.standardIcon(QStyle.SP_MessageBoxWarning)}
        self._doc = None
        self.problems = []
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        controller.document_replaced.connect(self._on_document_replaced)
        self._attach(controller.document)
        self.set_problems(self._current())

    def _attach(self, doc):
        if self._doc is not None:
            self._doc.inferred.disconnect(self._on_inferred)
        self._doc = doc
        doc.inferred.connect(self._on_inferred)

    def _current(self):
        result = self.controller.document.result
        return list(result.problems) if result is not None else []

    def _on_document_replaced(self):
        self._attach(self.controller.document)
        self.set_problems(self._current())

    def _on_inferred(self, result):
        self.set_problems(list(result.problems))

    def set_problems(self, problems):
        self.problems = problems
        doc = self.controller.document
        self.tree.clear()
        for p in problems:
            nid = problem_node(p)
            node = doc.nodes.get(nid) if nid else None
            item = QTreeWidgetItem([p.message, node.name if node else "—", KIND_TITLES.get(p.kind, p.kind)])
            item.setIcon(0, self._icons["warning" if is_warning(p) else "error"])
            item.setToolTip(0, p.message)
            item.setData(0, NODE_ROLE, nid)
            self.tree.addTopLevelItem(item)
        self.empty.setVisible(not problems and bool(doc.nodes))
        self.tree.setVisible(bool(problems) or not doc.nodes)
        self.count_changed.emit(len(problems))

    def item_texts(self):
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def _on_clicked(self, item, _column=0):
        nid = item.data(0, NODE_ROLE)
        if nid and nid in self.controller.document.nodes:
            self.controller.set_selection([nid])
            self.node_activated.emit(nid)
