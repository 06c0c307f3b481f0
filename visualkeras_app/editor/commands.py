"""Undo commands: every edit of a document is one of these, pushed on the controller's QUndoStack.

Each command touches only the :class:`~visualkeras_app.document.graph.Document`; the canvas and the
panels follow the document's signals. ``redo`` runs when the command is pushed, so the controller
never edits the document itself. Undo puts nodes and edges back at their old places in the
document's order, so that undo gives back a document equal to the one before (``Document.__eq__``).
"""
from __future__ import annotations

import copy
import time

from PySide6.QtGui import QUndoCommand

# Command ids for QUndoCommand.mergeWith (a command merges only with one of the same id).
_MOVE_ID = 1
_CONFIG_ID = 2

# Parameter edits of the same field closer than this (seconds) merge into one undo step: typing
# "128" into a spin box is one edit, not three.
CONFIG_MERGE_SECONDS = 2.0


class AddNodes(QUndoCommand):
    """Add ``nodes`` (LayerNode) and the ``edges`` between them; undo removes them."""

    def __init__(self, doc, nodes, edges=(), text="Add layer", parent=None):
        super().__init__(text, parent)
        self.doc, self.nodes, self.edges = doc, [n.copy() for n in nodes], list(edges)

    def redo(self):
        with self.doc.batch():
            for node in self.nodes:
                self.doc.add_node(node.copy())
            for edge in self.edges:
                self.doc.add_edge(edge)

    def undo(self):
        with self.doc.batch():
            for edge in reversed(self.edges):
                self.doc.remove_edge(edge)
            for node in reversed(self.nodes):
                self.doc.remove_node(node.id)


class Paste(AddNodes):
    """Paste copied layers (already given fresh ids and names)."""

    def __init__(self, doc, nodes, edges=(), text="Paste", parent=None):
        super().__init__(doc, nodes, edges, text, parent)


class RemoveNodes(QUndoCommand):
    """Remove nodes (with every edge touching them) and the extra ``edges``; undo restores all."""

    def __init__(self, doc, ids, edges=(), text="Delete", parent=None):
        super().__init__(text, parent)
        self.doc, self.ids, self.extra_edges = doc, list(dict.fromkeys(ids)), list(dict.fromkeys(edges))
        self._nodes, self._edges = [], []  # (index in the document's order, object), filled by redo

    def redo(self):
        doc, ids = self.doc, set(self.ids)
        order = list(doc.nodes)
        self._nodes = [(order.index(nid), doc.nodes[nid]) for nid in self.ids]
        self._edges = [(i, e) for i, e in enumerate(doc.edges)
                       if e.src in ids or e.dst in ids or e in self.extra_edges]
        with doc.batch():
            for _, edge in self._edges:
                doc.remove_edge(edge)
            for nid in self.ids:
                doc.remove_node(nid)

    def undo(self):
        with self.doc.batch():
            # Ascending indices: each insert lands where it was once the earlier ones are back.
            for index, node in sorted(self._nodes, key=lambda t: t[0]):
                self.doc.add_node(node, index=index)
            for index, edge in self._edges:
                self.doc.add_edge(edge, index=index)


class MoveNodes(QUndoCommand):
    """Move nodes: ``moves`` is ``{id: (old_pos, new_pos)}``. Merges with the next move that carries
    the same ``merge_key`` (for moves sent while a drag goes on)."""

    def __init__(self, doc, moves, merge_key=None, text="Move", parent=None):
        super().__init__(text, parent)
        self.doc, self.moves, self.merge_key = doc, dict(moves), merge_key

    def id(self):
        return _MOVE_ID

    def mergeWith(self, other):
        if self.merge_key is None or other.merge_key != self.merge_key:
            return False
        for nid, (_, new) in other.moves.items():
            self.moves[nid] = (self.moves[nid][0] if nid in self.moves else other.moves[nid][0], new)
        return True

    def redo(self):
        self._apply(1)

    def undo(self):
        self._apply(0)

    def _apply(self, which):
        with self.doc.batch():
            for nid, pair in self.moves.items():
                self.doc.move_node(nid, pair[which])


class Connect(QUndoCommand):
    """Add one edge (the document checks it first and raises GraphError)."""

    def __init__(self, doc, edge, text="Connect", parent=None):
        super().__init__(text, parent)
        self.doc, self.edge = doc, edge

    def redo(self):
        self.doc.add_edge(self.edge)

    def undo(self):
        self.doc.remove_edge(self.edge)


class Disconnect(QUndoCommand):
    """Remove one edge; undo puts it back at its place in the edge list."""

    def __init__(self, doc, edge, text="Disconnect", parent=None):
        super().__init__(text, parent)
        self.doc, self.edge, self._index = doc, edge, None

    def redo(self):
        self._index = self.doc.edges.index(self.edge)
        self.doc.remove_edge(self.edge)

    def undo(self):
        self.doc.add_edge(self.edge, index=self._index)


class SetConfig(QUndoCommand):
    """Replace a node's config. With a ``merge_key`` (a parameter name), consecutive edits of that
    parameter of that node within CONFIG_MERGE_SECONDS merge into one undo step."""

    def __init__(self, doc, node_id, config, merge_key=None, text="Edit parameter", parent=None):
        super().__init__(text, parent)
        node = doc.nodes[node_id]
        self.doc, self.node_id, self.merge_key = doc, node_id, merge_key
        self.old, self.new = copy.deepcopy(node.config), copy.deepcopy(config)
        # A config edit keeps the node's weights, but a run trained after it writes new ones of the new
        # shapes: undo puts back the weights that fit the old config.
        self._old_weights = node.weights
        self._stamp = time.monotonic()

    def id(self):
        return _CONFIG_ID

    def mergeWith(self, other):
        if (self.merge_key is None or other.merge_key != self.merge_key or other.node_id != self.node_id
                or other._stamp - self._stamp > CONFIG_MERGE_SECONDS):
            return False
        self.new, self._stamp = other.new, other._stamp
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def redo(self):
        self.doc.set_config(self.node_id, self.new)

    def undo(self):
        self.doc.nodes[self.node_id].weights = self._old_weights
        self.doc.set_config(self.node_id, self.old)


class Rename(QUndoCommand):
    """Rename a layer (the document refuses a taken or empty name with GraphError)."""

    def __init__(self, doc, node_id, name, text="Rename", parent=None):
        super().__init__(text, parent)
        self.doc, self.node_id, self.old, self.new = doc, node_id, doc.nodes[node_id].name, name

    def redo(self):
        self.doc.rename(self.node_id, self.new)

    def undo(self):
        self.doc.rename(self.node_id, self.old)


class ApplyLayout(QUndoCommand):
    """Move many nodes at once to ``positions`` ({id: (x, y)}), e.g. from auto-layout."""

    def __init__(self, doc, positions, text="Auto-layout", parent=None):
        super().__init__(text, parent)
        self.doc = doc
        self.old = {nid: tuple(doc.nodes[nid].pos) for nid in positions if nid in doc.nodes}
        self.new = {nid: (float(p[0]), float(p[1])) for nid, p in positions.items() if nid in doc.nodes}

    def redo(self):
        self._apply(self.new)

    def undo(self):
        self._apply(self.old)

    def _apply(self, positions):
        with self.doc.batch():
            for nid, pos in positions.items():
                self.doc.move_node(nid, pos)
