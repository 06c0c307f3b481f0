"""The document: a graph of layer nodes and tensor edges, free of Qt.

Words as in Keras's ``ops/node.py``: a node is one layer (its class name and config), an edge is the
tensor from a node's output to another node's input port. Undo commands (``commands.py``) are the
only code that changes a document in the app; the canvas and the panels follow its signals.

Every mutation re-runs shape inference (``inference.infer``), which is incremental and cheap, and
emits ``inferred`` with the result.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

from visualkeras_app.document.signals import Signal


class GraphError(ValueError):
    """An edit the graph refuses (a cycle, an input-to-input connection, a taken port...)."""


@dataclass
class LayerNode:
    """One layer on the canvas.

    ``config`` is the layer's Keras config without ``name`` (the name lives in ``name``);
    ``weights`` holds NumPy arrays when the node came from a trained model, else None.
    """

    id: str
    class_name: str
    name: str
    config: dict = field(default_factory=dict)
    pos: tuple = (0.0, 0.0)
    weights: list | None = None

    def copy(self):
        return LayerNode(self.id, self.class_name, self.name, copy.deepcopy(self.config), tuple(self.pos),
                         None if self.weights is None else [w.copy() for w in self.weights])

    @property
    def is_input(self):
        return self.class_name == "InputLayer"


@dataclass(frozen=True)
class Edge:
    """The tensor from ``src`` (output ``src_port``) into ``dst`` at input ``dst_port``."""

    src: str
    dst: str
    dst_port: int = 0
    src_port: int = 0


# Layers that take a list of tensors: any number of input ports (at least two).
MERGE_LAYERS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
                # Attention layers take [query, value(, key)] in that order of the incoming edges.
                "MultiHeadAttention", "GroupedQueryAttention", "Attention", "AdditiveAttention",
                # HashedCrossing crosses the features of its incoming edges, in their order.
                "HashedCrossing"}


def accepts_many_inputs(class_name: str) -> bool:
    return class_name in MERGE_LAYERS


class Document:
    """The layer graph: data and signals. Signals: ``node_added(node)``, ``node_removed(node)``,
    ``node_changed(node)`` (config or name), ``node_moved(node)``, ``edge_added(edge)``, ``edge_removed(edge)``,
    ``edited()`` (after any edit, a batch once; shape inference listens), ``inferred(result)`` (shape
    inference's new result), ``changed()`` (after any edit, once inference has run).

    Derived state is not the document's: its ``inference`` (a ``ShapeInference``) keeps the cache and the
    latest ``result``; ``infer()`` asks it to run now."""

    # The class of the shape inference each document gets: visualkeras_app.document.inference registers it
    # when the package loads (this module never imports inference, which imports this one).
    inference_class = None

    def __init__(self):
        self.nodes: dict[str, LayerNode] = {}
        self.edges: list[Edge] = []
        self.training: dict = {}  # training settings saved with the project
        self.runs: list = []  # the training runs of this model (RunRecords), saved with the project
        self._ids = itertools.count(1)
        self.node_added = Signal()
        self.node_removed = Signal()
        self.node_changed = Signal()
        self.node_moved = Signal()
        self.edge_added = Signal()
        self.edge_removed = Signal()
        self.edited = Signal()
        self.inferred = Signal()
        self.changed = Signal()
        self._batch_depth = 0
        # Listens to ``edited``; holds the cache and the last InferenceResult.
        self.inference = Document.inference_class(self) if Document.inference_class is not None else None
        self._index = None  # lookups for edits (_Index), rebuilt when nodes or edges change behind our back

    # ------------------------------------------------------------------ queries
    def _idx(self):
        """The edit lookups, kept up to date by the mutations below; rebuilt (linear) when the node dict
        or the edge list was replaced or changed length some other way (tests append edges by hand)."""
        key = (id(self.nodes), len(self.nodes), id(self.edges), len(self.edges))
        if self._index is None or self._index.key != key:
            self._index = _Index(self)
        return self._index

    def new_id(self) -> str:
        while True:
            nid = f"n{next(self._ids)}"
            if nid not in self.nodes:
                return nid

    def unique_name(self, base: str) -> str:
        names = {n.name for n in self.nodes.values()}
        if base not in names:
            return base
        for i in itertools.count(1):
            if f"{base}_{i}" not in names:
                return f"{base}_{i}"

    def inputs_of(self, node_id):
        """Incoming edges sorted by port."""
        return sorted(self._idx().ins.get(node_id, ()), key=lambda e: e.dst_port)

    def outputs_of(self, node_id):
        """Outgoing edges, in the document's order."""
        return list(self._idx().outs.get(node_id, ()))

    def would_cycle(self, src, dst) -> bool:
        """Whether an edge src -> dst would close a cycle (dst already reaches src)."""
        if src == dst:
            return True
        out = self._idx().out
        stack, seen = [dst], set()
        while stack:
            n = stack.pop()
            if n == src:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack.extend(out.get(n, ()))
        return False

    def check_edge(self, edge: Edge):
        """Raise GraphError with the reason if ``edge`` cannot be added."""
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            raise GraphError("Both ends of a connection must be layers in the document.")
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        if dst.is_input:
            raise GraphError(f"{dst.name!r} is an Input: it takes no incoming connection. "
                             "Connect it to a layer instead.")
        idx = self._idx()
        if idx.edges.get(edge):
            raise GraphError(f"{src.name!r} is already connected to {dst.name!r} there.")
        if not accepts_many_inputs(dst.class_name):
            if edge.dst_port != 0 or idx.in_count.get(edge.dst, 0):
                raise GraphError(f"{dst.name!r} ({dst.class_name}) takes one input and already has one. "
                                 "Disconnect it first, or use a merge layer (Add, Concatenate...) to combine tensors.")
        elif idx.ports.get((edge.dst, edge.dst_port)):
            raise GraphError(f"Input {edge.dst_port + 1} of {dst.name!r} is already connected.")
        if self.would_cycle(edge.src, edge.dst):
            raise GraphError(f"Connecting {src.name!r} to {dst.name!r} would make a cycle; a model's graph "
                             "must flow one way.")

    # ------------------------------------------------------------------ mutations (used by undo commands)
    def add_node(self, node: LayerNode, index=None):
        """Add ``node`` (at position ``index`` in the node order when given: an undo puts it back where it was)."""
        if node.id in self.nodes:
            raise GraphError(f"A node with id {node.id!r} already exists.")
        idx = self._idx()
        if idx.names.get(node.name):
            raise GraphError(f"A layer named {node.name!r} already exists; layer names must be unique.")
        self.nodes[node.id] = node
        idx.node_added(self, node)
        if index is not None and index < len(self.nodes) - 1:
            items = list(self.nodes.items())
            items.insert(index, items.pop())
            self.nodes.clear()
            self.nodes.update(items)
        self.node_added.emit(node)
        self._edited()
        return node

    def remove_node(self, node_id):
        """Remove a node and its edges; returns (node, removed edges) so an undo can put them back."""
        node = self.nodes[node_id]
        removed = [e for e in self.edges if e.src == node_id or e.dst == node_id]
        with self.batch():
            for e in removed:
                self.remove_edge(e)
            idx = self._idx()
            del self.nodes[node_id]
            idx.node_removed(self, node)
            self.node_removed.emit(node)
            self._edited()
        return node, removed

    def add_edge(self, edge: Edge, index=None):
        self.check_edge(edge)
        idx = self._idx()
        self.edges.insert(len(self.edges) if index is None else index, edge)
        idx.edge_added(self, edge)
        if index is not None and index < len(self.edges) - 1:
            self._index = None  # put back in the middle (an undo): the per-layer lists are in edge order
        self.edge_added.emit(edge)
        self._edited()
        return edge

    def remove_edge(self, edge: Edge):
        idx = self._idx()
        self.edges.remove(edge)
        idx.edge_removed(self, edge)
        self.edge_removed.emit(edge)
        self._edited()

    def set_config(self, node_id, config: dict):
        node = self.nodes[node_id]
        # Trained weights stay on the node: inference marks them unusable (``weights_ok``) while their
        # shapes do not fit the new config, and an edit back (or an undo) makes them fit again.
        node.config = copy.deepcopy(config)
        self.node_changed.emit(node)
        self._edited()

    def set_param(self, node_id, key, value):
        config = copy.deepcopy(self.nodes[node_id].config)
        config[key] = value
        self.set_config(node_id, config)

    def rename(self, node_id, name):
        if any(n.name == name and n.id != node_id for n in self.nodes.values()):
            raise GraphError(f"A layer named {name!r} already exists; layer names must be unique.")
        if not name or not str(name).strip():
            raise GraphError("A layer name cannot be empty.")
        idx = self._idx()
        idx.renamed(self.nodes[node_id].name, name)
        self.nodes[node_id].name = name
        self.node_changed.emit(self.nodes[node_id])
        self._edited()

    def move_node(self, node_id, pos):
        node = self.nodes[node_id]
        node.pos = (float(pos[0]), float(pos[1]))
        self.node_moved.emit(node)
        self.changed.emit()

    def clear(self):
        with self.batch():
            for nid in list(self.nodes):
                self.remove_node(nid)
            self.training = {}

    class _Batch:
        def __init__(self, doc):
            self.doc = doc

        def __enter__(self):
            self.doc._batch_depth += 1

        def __exit__(self, *exc):
            self.doc._batch_depth -= 1
            if self.doc._batch_depth == 0 and self.doc._dirty:
                self.doc._edited()

    _dirty = False

    def batch(self):
        """Group edits: inference and ``changed`` run once at the end."""
        return Document._Batch(self)

    def _edited(self):
        if self._batch_depth:
            self._dirty = True
            return
        self._dirty = False
        self.edited.emit()
        self.changed.emit()

    @property
    def result(self):
        """The last ``InferenceResult`` (None before the first inference), kept by ``self.inference``."""
        return self.inference.result if self.inference is not None else None

    def infer(self):
        """Run shape inference now (it also runs after every edit) and return its result."""
        if self.inference is None:
            raise RuntimeError("This document has no shape inference: import visualkeras_app.document "
                               "(its package registers ShapeInference) before making documents.")
        return self.inference.run()

    # ------------------------------------------------------------------ snapshots (tests, copy/paste)
    def to_dict(self):
        return {"nodes": [{"id": n.id, "class_name": n.class_name, "name": n.name, "config": copy.deepcopy(n.config),
                           "pos": list(n.pos)} for n in self.nodes.values()],
                "edges": [[e.src, e.dst, e.dst_port, e.src_port] for e in self.edges]}

    def __eq__(self, other):
        """Documents are equal when their graphs are (``to_dict``: nodes, configs, positions, edges);
        trained weights and training settings are not compared."""
        if not isinstance(other, Document):
            return NotImplemented
        return self.to_dict() == other.to_dict()


class _Index:
    """Lookups that make each edit O(1) instead of a scan of every node or edge (a 4,000-layer file
    spent most of its opening time in those scans): counts of each edge, of each connected input port
    and of each layer name, each node's outgoing targets and in-degree."""

    def __init__(self, doc):
        self.edges, self.ports, self.in_count, self.names, self.out = {}, {}, {}, {}, {}
        self.ins, self.outs = {}, {}  # node id -> its incoming / outgoing edges, in the document's order
        for e in doc.edges:
            self._count(e, 1)
        for n in doc.nodes.values():
            _bump(self.names, n.name, 1)
        self._stamp(doc)

    def _stamp(self, doc):
        self.key = (id(doc.nodes), len(doc.nodes), id(doc.edges), len(doc.edges))

    def _count(self, e, step):
        _bump(self.edges, e, step)
        _bump(self.ports, (e.dst, e.dst_port), step)
        _bump(self.in_count, e.dst, step)
        if step > 0:
            self.out.setdefault(e.src, []).append(e.dst)
            self.ins.setdefault(e.dst, []).append(e)
            self.outs.setdefault(e.src, []).append(e)
        else:
            if e.dst in self.out.get(e.src, ()):
                self.out[e.src].remove(e.dst)
            for table, key in ((self.ins, e.dst), (self.outs, e.src)):
                edges = table.get(key)
                if edges is not None and e in edges:
                    edges.remove(e)
                    if not edges:
                        del table[key]

    def edge_added(self, doc, e):
        self._count(e, 1)
        self._stamp(doc)

    def edge_removed(self, doc, e):
        self._count(e, -1)
        self._stamp(doc)

    def node_added(self, doc, node):
        _bump(self.names, node.name, 1)
        self._stamp(doc)

    def node_removed(self, doc, node):
        _bump(self.names, node.name, -1)
        self._stamp(doc)

    def renamed(self, old, new):
        _bump(self.names, old, -1)
        _bump(self.names, new, 1)


def _bump(counts, key, step):
    n = counts.get(key, 0) + step
    if n > 0:
        counts[key] = n
    else:
        counts.pop(key, None)
