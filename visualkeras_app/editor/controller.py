"""The editor's controller: the one place where user intentions become undoable document edits.

The canvas, the panels and the menus call these methods; each pushes one command
(``commands.py``) on the undo stack, or refuses the edit and says why through ``message``. The
document itself stays free of Qt; this module imports neither ``engine`` nor torch at module level
(the window must appear before torch is loaded).
"""
from __future__ import annotations

import copy
import json
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack

from visualkeras_app.document.defaults import validate_param
from visualkeras_app.document.graph import Document, Edge, GraphError, LayerNode, accepts_many_inputs
from visualkeras_app.document.style import NODE_HEIGHT, NODE_WIDTH
from visualkeras_app.editor import commands

CLIPBOARD_FORMAT = "visualkeras-nodes"



def snake_case(class_name: str) -> str:
    """Keras's automatic layer name for a class: ``Conv2D`` -> ``conv2d``, ``BatchNormalization``
    -> ``batch_normalization`` (the engine's rule, ``engine.backend.to_snake_case``)."""
    from engine.backend import to_snake_case  # here for start-up time: the window shows before torch loads

    return to_snake_case(class_name)


def _encode(value):
    # JSON has no tuples; keep them (kernel_size=(3, 3)) so that a pasted config equals the copied one.
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return value.item()
    return value


def _decode(obj):
    if isinstance(obj, dict) and set(obj) == {"__tuple__"}:
        return tuple(obj["__tuple__"])
    return obj


def _xy(pos):
    """``(x, y)`` floats from a tuple or a QPointF."""
    if hasattr(pos, "x") and callable(pos.x):
        return (float(pos.x()), float(pos.y()))
    return (float(pos[0]), float(pos[1]))


def guess_flow(doc, default="LR") -> str:
    """``"TB"`` when the document's connections mostly run downwards, ``"LR"`` when they mostly run
    rightwards, ``default`` when it has none."""
    down = across = 0.0
    for e in doc.edges:
        a, b = doc.nodes[e.src].pos, doc.nodes[e.dst].pos
        down += abs(b[1] - a[1])
        across += abs(b[0] - a[0])
    if not doc.edges or down == across:
        return default
    return "TB" if down > across else "LR"



def _clipboard_problem(data):
    """Why layers on the clipboard (text any program may have put there) cannot be pasted, or None:
    every layer a registered class with a config it takes, a name, a finite position; edges of ints."""
    import math

    from visualkeras_app.document.config_check import check_layer_config

    nodes, edges = data.get("nodes", []), data.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return "its 'nodes' and 'edges' are not lists."
    for item in nodes:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return "a layer entry is malformed."
        name = item.get("name")
        if name is not None and not isinstance(name, str):
            return f"a layer name is not text: {name!r:.80}"
        try:
            check_layer_config(item.get("class_name"), item.get("config", {}), name)
        except ValueError as e:
            return str(e)
        pos = item.get("pos", (0.0, 0.0))
        if not (isinstance(pos, (list, tuple)) and len(pos) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= 1e7
                for v in pos)):
            return f"the position of layer {name!r:.80} is {pos!r:.80}, not two finite numbers."
    for e in edges:
        if not (isinstance(e, list) and len(e) == 4 and all(isinstance(v, str) for v in e[:2])
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**16 for v in e[2:])):
            return f"a connection entry is malformed: {e!r:.80}"
    return None

class EditorController(QObject):
    """Owns a :class:`Document` and its :class:`QUndoStack`; every edit goes through here.

    Signals:
        selection_changed(list): the selected node ids changed.
        document_replaced(): ``document`` is a new object (new/open); listeners rebind to it.
        message(str): a line for the status bar, e.g. why an edit was refused.
        flow_changed(str): the graph's direction, ``"LR"`` or ``"TB"`` (where the canvas puts ports).
    """

    selection_changed = Signal(list)
    document_replaced = Signal()
    message = Signal(str)
    flow_changed = Signal(str)

    def __init__(self, document: Document | None = None, parent=None):
        super().__init__(parent)
        self.document = document if document is not None else Document()
        self.undo_stack = QUndoStack(self)
        self._selection: list[str] = []
        self._selected_edges: list[Edge] = []
        self._last_paste = (None, 0)  # (text, count): pasting the same text again shifts further
        # Which way the graph flows, so that ports face their neighbours: left to right ("LR": inputs
        # on the left, output on the right) or top to bottom ("TB"). Auto-layout sets it, and so does
        # opening a document (from how its nodes lie).
        self.flow = guess_flow(self.document, "LR")

    # ------------------------------------------------------------------ helpers
    def _push(self, command):
        self.undo_stack.push(command)

    def _refuse(self, reason: str):
        self.message.emit(str(reason))

    def _free_position(self):
        # After the last node in the flow's direction, so a layer added without a position never
        # hides another.
        if not self.document.nodes:
            return (0.0, 0.0)
        if self.flow == "TB":
            last = max(self.document.nodes.values(), key=lambda n: n.pos[1])
            return (float(last.pos[0]), float(last.pos[1]) + NODE_HEIGHT + 70.0)
        last = max(self.document.nodes.values(), key=lambda n: n.pos[0])
        return (float(last.pos[0]) + NODE_WIDTH + 100.0, float(last.pos[1]))

    def set_flow(self, flow):
        """``"LR"`` or ``"TB"``: which way the canvas draws ports and connections."""
        if flow not in ("LR", "TB"):
            raise ValueError(f"flow must be 'LR' or 'TB'. Received: flow={flow!r}")
        if flow != self.flow:
            self.flow = flow
            self.flow_changed.emit(flow)

    # ------------------------------------------------------------------ nodes
    def add_layer(self, class_name: str, pos=None, config=None):
        """Add a layer with its palette defaults (or ``config``); returns its node id, or None
        (with a message) when the class is unknown."""
        if config is None:
            try:
                from visualkeras_app.document.defaults import default_config

                config = default_config(class_name)
            except (ValueError, KeyError, TypeError) as e:
                self._refuse(f"Cannot add {class_name}: {e}")
                return None
        doc = self.document
        node = LayerNode(doc.new_id(), class_name, doc.unique_name(snake_case(class_name)),
                         copy.deepcopy(config), _xy(pos) if pos is not None else self._free_position())
        self._push(commands.AddNodes(doc, [node], text=f"Add {class_name}"))
        self.set_selection([node.id])
        return node.id

    def _new_node(self, class_name, pos):
        try:
            from visualkeras_app.document.defaults import default_config

            config = default_config(class_name)
        except (ValueError, KeyError, TypeError) as e:
            self._refuse(f"Cannot add {class_name}: {e}")
            return None
        doc = self.document
        return LayerNode(doc.new_id(), class_name, doc.unique_name(snake_case(class_name)), config, _xy(pos))

    def position_after(self, node_id):
        """Where a layer fed by ``node_id`` goes: the next place downstream (below it in a top-down
        graph, to its right in a left-right one), moved sideways past any layer already there."""
        x, y = self.document.nodes[node_id].pos
        if self.flow == "TB":
            pos, step = (x, y + NODE_HEIGHT + 70.0), (NODE_WIDTH + 40.0, 0.0)
        else:
            pos, step = (x + NODE_WIDTH + 100.0, y), (0.0, NODE_HEIGHT + 40.0)
        taken = [n.pos for n in self.document.nodes.values()]
        for k in range(1000):
            px, py = pos[0] + step[0] * k, pos[1] + step[1] * k
            if not any(abs(px - tx) < NODE_WIDTH + 10 and abs(py - ty) < NODE_HEIGHT + 10 for tx, ty in taken):
                return (float(px), float(py))
        return (float(pos[0]), float(pos[1]))

    def add_layer_after(self, class_name: str, src, pos=None):
        """Add a layer fed by ``src`` (at ``pos``, else :meth:`position_after`) in one undo step; an
        Input layer, which takes no input, is added unconnected. Returns the new id, or None."""
        if src not in self.document.nodes:
            return self.add_layer(class_name, pos)
        node = self._new_node(class_name, pos if pos is not None else self.position_after(src))
        if node is None:
            return None
        edges = [] if node.is_input else [Edge(src, node.id, 0)]
        what = f"Add {class_name} after {self.document.nodes[src].name}" if edges else f"Add {class_name}"
        self._push(commands.AddNodes(self.document, [node], edges, text=what))
        self.set_selection([node.id])
        return node.id

    def add_layer_before(self, class_name: str, dst, dst_port, pos):
        """Add a layer at ``pos`` feeding ``dst`` at input ``dst_port`` (one undo step). Returns the
        new id, or None (with the reason) when that input cannot take it."""
        doc = self.document
        if dst not in doc.nodes:
            return self.add_layer(class_name, pos)
        node = self._new_node(class_name, pos)
        if node is None:
            return None
        edge = Edge(node.id, dst, int(dst_port))
        if doc.nodes[dst].is_input or any(e.dst == dst and e.dst_port == edge.dst_port for e in doc.edges) or (
                not accepts_many_inputs(doc.nodes[dst].class_name)
                and (edge.dst_port or any(e.dst == dst for e in doc.edges))):
            self._refuse(f"{doc.nodes[dst].name!r} cannot take another input there.")
            return None
        self._push(commands.AddNodes(doc, [node], [edge], text=f"Add {class_name} before {doc.nodes[dst].name}"))
        self.set_selection([node.id])
        return node.id

    def insert_into_edge(self, class_name: str, edge, pos):
        """Put a new layer at ``pos`` into the connection ``edge`` (src -> new -> dst, the same input
        port of dst) in one undo step; the layers downstream move along to make room when the new
        one lies on them. Returns the new id, or None (with the reason)."""
        doc = self.document
        if edge not in doc.edges:
            return self.add_layer(class_name, pos)
        if class_name == "InputLayer":
            self._refuse("An Input layer takes no input: it cannot go into a connection.")
            return None
        # Never on the layer upstream: at least a gap past it along the flow.
        x, y = _xy(pos)
        sx, sy = doc.nodes[edge.src].pos
        if self.flow == "TB" and abs(x - sx) < NODE_WIDTH + 10:
            y = max(y, sy + NODE_HEIGHT + 40.0)
        elif self.flow != "TB" and abs(y - sy) < NODE_HEIGHT + 10:
            x = max(x, sx + NODE_WIDTH + 60.0)
        node = self._new_node(class_name, (x, y))
        if node is None:
            return None
        self.undo_stack.beginMacro(f"Insert {class_name} between {doc.nodes[edge.src].name} and "
                                   f"{doc.nodes[edge.dst].name}")
        self._push(commands.Disconnect(doc, edge))
        self._push(commands.AddNodes(doc, [node], [Edge(edge.src, node.id, 0, edge.src_port),
                                                   Edge(node.id, edge.dst, edge.dst_port, 0)]))
        room = self._room_after(node)
        if room:
            self._push(commands.MoveNodes(doc, room))
        self.undo_stack.endMacro()
        self._selected_edges = [e for e in self._selected_edges if e != edge]
        self.set_selection([node.id])
        return node.id

    def _room_after(self, node):
        """Moves ``{id: (old, new)}`` that push the layers downstream of ``node`` along the flow far
        enough that none lies on it (a layer dropped between two close layers makes room)."""
        doc, (x, y) = self.document, node.pos
        later, stack = set(), [e.dst for e in doc.edges if e.src == node.id]
        while stack:
            n = stack.pop()
            if n not in later:
                later.add(n)
                stack.extend(e.dst for e in doc.edges if e.src == n)
        shift = 0.0
        for nid in later:
            px, py = doc.nodes[nid].pos
            if abs(px - x) < NODE_WIDTH + 10 and abs(py - y) < NODE_HEIGHT + 10:
                need = (y + NODE_HEIGHT + 40 - py) if self.flow == "TB" else (x + NODE_WIDTH + 60 - px)
                shift = max(shift, need)
        if shift <= 0:
            return {}
        dx, dy = (0.0, shift) if self.flow == "TB" else (shift, 0.0)
        return {nid: (doc.nodes[nid].pos, (doc.nodes[nid].pos[0] + dx, doc.nodes[nid].pos[1] + dy))
                for nid in later}

    def remove_nodes(self, ids):
        """Delete nodes and every connection touching them (one undo step)."""
        self.remove_items(ids, ())

    def remove_items(self, ids=(), edges=()):
        """Delete nodes and edges together (one undo step), e.g. a mixed canvas selection."""
        ids = [i for i in ids if i in self.document.nodes]
        edges = [e for e in edges if e in self.document.edges]
        if not ids and not edges:
            return
        what = f"Delete {len(ids)} layer{'s' * (len(ids) != 1)}" if ids else "Delete connection"
        self._push(commands.RemoveNodes(self.document, ids, edges, text=what))
        self.set_selection([i for i in self._selection if i not in ids])
        self._selected_edges = [e for e in self._selected_edges if e in self.document.edges]

    def delete_selection(self):
        """Delete the selected nodes and the selected connections."""
        self.remove_items(self._selection, self._selected_edges)

    def move_nodes(self, positions: dict, merge_key=None):
        """Move nodes to ``{id: (x, y)}`` (top-left corners); one undo step."""
        doc = self.document
        moves = {}
        for nid, pos in positions.items():
            if nid in doc.nodes:
                old, new = tuple(doc.nodes[nid].pos), _xy(pos)
                if old != new:
                    moves[nid] = (old, new)
        if moves:
            n = len(moves)
            self._push(commands.MoveNodes(doc, moves, merge_key, text=f"Move {n} layer{'s' * (n != 1)}"))

    # ------------------------------------------------------------------ edges
    def free_port(self, dst) -> int:
        """The input port a new connection into ``dst`` takes: the lowest free one for a merge
        layer, else 0."""
        node = self.document.nodes.get(dst)
        if node is None or not accepts_many_inputs(node.class_name):
            return 0
        taken = {e.dst_port for e in self.document.edges if e.dst == dst}
        port = 0
        while port in taken:
            port += 1
        return port

    def check_connection(self, src, dst, dst_port=None):
        """``(edge, None)`` when src -> dst may be connected, else ``(None, reason)``; changes nothing."""
        edge = Edge(src, dst, self.free_port(dst) if dst_port is None else int(dst_port))
        try:
            self.document.check_edge(edge)
        except GraphError as e:
            return None, str(e)
        return edge, None

    def connect(self, src, dst, dst_port=None):
        """Connect ``src``'s output to ``dst`` (at ``dst_port``, or the free port); returns the
        Edge, or None after saying why through ``message``."""
        edge, reason = self.check_connection(src, dst, dst_port)
        if edge is None:
            self._refuse(reason)
            return None
        doc = self.document
        self._push(commands.Connect(doc, edge, text=f"Connect {doc.nodes[src].name} \u2192 {doc.nodes[dst].name}"))
        return edge

    def reconnect(self, edge, src, dst, dst_port=None):
        """Move the connection ``edge`` to ``src`` -> ``dst`` (one undo step); returns the new Edge,
        or None (with the reason) leaving ``edge`` as it was."""
        if edge not in self.document.edges:
            return self.connect(src, dst, dst_port)
        if (src, dst) == (edge.src, edge.dst) and dst_port in (None, edge.dst_port):
            return edge  # dropped back where it was
        new, reason = self.check_connection(src, dst, dst_port)
        if new is None:
            self._refuse(reason)
            return None
        self.undo_stack.beginMacro("Reconnect")
        self._push(commands.Disconnect(self.document, edge))
        self._push(commands.Connect(self.document, new))
        self.undo_stack.endMacro()
        return new

    def disconnect(self, edge):
        if edge not in self.document.edges:
            return
        self._push(commands.Disconnect(self.document, edge))
        self._selected_edges = [e for e in self._selected_edges if e != edge]

    # ------------------------------------------------------------------ parameters and names
    def set_param(self, node_id, key, value) -> bool:
        """Set one hyperparameter; refused (False, with a message) when the value is invalid.
        Consecutive edits of the same field merge into one undo step."""
        node = self.document.nodes.get(node_id)
        if node is None:
            return False
        ok, reason = validate_param(node.class_name, key, value, node.config)
        if not ok:
            self._refuse(f"{node.name}: {reason}")
            return False
        if key in node.config and node.config[key] == value:
            return True
        config = copy.deepcopy(node.config)
        config[key] = value
        self._push(commands.SetConfig(self.document, node_id, config, merge_key=key, text=f"Set {node.name}.{key}"))
        return True

    def set_config(self, node_id, config) -> bool:
        node = self.document.nodes.get(node_id)
        if node is None:
            return False
        if node.config != config:
            self._push(commands.SetConfig(self.document, node_id, config, text=f"Edit {node.name}"))
        return True

    def rename(self, node_id, name) -> bool:
        node = self.document.nodes.get(node_id)
        if node is None:
            return False
        name = str(name).strip()
        if name == node.name:
            return True
        if not name:
            self._refuse("A layer name cannot be empty.")
            return False
        if any(n.name == name for n in self.document.nodes.values()):
            self._refuse(f"A layer named {name!r} already exists; layer names must be unique.")
            return False
        self._push(commands.Rename(self.document, node_id, name, text=f"Rename {node.name} to {name}"))
        return True

    # ------------------------------------------------------------------ clipboard
    def _serialize(self, ids) -> str:
        doc = self.document
        ids = [i for i in ids if i in doc.nodes]
        chosen = set(ids)
        data = {"format": CLIPBOARD_FORMAT, "version": 1,
                "nodes": [{"id": n.id, "class_name": n.class_name, "name": n.name, "config": _encode(n.config),
                           "pos": list(n.pos)} for n in (doc.nodes[i] for i in ids)],
                "edges": [[e.src, e.dst, e.dst_port, e.src_port] for e in doc.edges
                          if e.src in chosen and e.dst in chosen]}
        return json.dumps(data)

    def copy_nodes(self, ids) -> str:
        """The layers ``ids`` and the connections among them as JSON, also put on the clipboard as
        plain text (``paste`` knows it by its ``format`` key).

        Plain text, not a ``QMimeData`` made here: the clipboard keeps what it is given past the
        end of the Python interpreter, and a Python-made ``QMimeData`` deleted then crashes the
        process at exit (PySide6 6.12, offscreen platform)."""
        text = self._serialize(ids)
        if QGuiApplication.instance() is not None:
            QGuiApplication.clipboard().setText(text)
        return text

    def cut_nodes(self, ids) -> str:
        text = self.copy_nodes(ids)
        self.remove_nodes(ids)
        return text

    def _clipboard_text(self):
        if QGuiApplication.instance() is None:
            return None
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return None
        return mime.text() if mime.hasText() else None

    def paste(self, text=None, offset=(40, 40)):
        """Paste layers copied by ``copy_nodes`` (from this or another window): new ids, names made
        unique, positions shifted by ``offset`` (further on each paste of the same text). Returns
        the new ids, which become the selection."""
        if text is None:
            text = self._clipboard_text()
        try:
            data = json.loads(text, object_hook=_decode) if text else None
        except (TypeError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("format") != CLIPBOARD_FORMAT:
            self._refuse("The clipboard holds no layers to paste.")
            return []
        reason = _clipboard_problem(data)
        if reason:
            self._refuse(f"The clipboard's layers cannot be pasted: {reason}")
            return []
        count = self._last_paste[1] + 1 if self._last_paste[0] == text else 1
        self._last_paste = (text, count)
        return self._insert_copies(data, offset, count, "Paste")

    def duplicate(self, ids, offset=(40, 40)):
        """Copies of ``ids`` (and the connections among them) beside the originals, clear of every
        layer; the clipboard is left alone."""
        data = json.loads(self._serialize(ids), object_hook=_decode)
        return self._insert_copies(data, offset, 1, "Duplicate")

    def _clear_offset(self, positions, offset, count):
        """``offset`` times ``count``, or more steps of ``offset`` until boxes at ``positions`` so
        shifted lie on no layer of the document (a copy on top of a layer hides it)."""
        taken = [n.pos for n in self.document.nodes.values()]
        gap = 10.0
        step = (float(offset[0]), float(offset[1]))
        if step == (0.0, 0.0):
            return step
        for k in range(count, count + 1000):
            dx, dy = step[0] * k, step[1] * k
            if not any(abs(x + dx - tx) < NODE_WIDTH + gap and abs(y + dy - ty) < NODE_HEIGHT + gap
                       for x, y in positions for tx, ty in taken):
                return dx, dy
        return step[0] * count, step[1] * count

    def _insert_copies(self, data, offset, count, what):
        doc = self.document
        positions = [tuple(map(float, item.get("pos", (0.0, 0.0)))) for item in data.get("nodes", [])]
        dx, dy = self._clear_offset(positions, offset, count)
        taken = {n.name for n in doc.nodes.values()}
        id_map, nodes = {}, []
        for item in data.get("nodes", []):
            new_id = doc.new_id()  # a counter: distinct even before the nodes are added
            id_map[item["id"]] = new_id
            name = item.get("name") or snake_case(item["class_name"])
            if name in taken:
                base = re.sub(r"_\d+$", "", name)
                i = 1
                while f"{base}_{i}" in taken:
                    i += 1
                name = f"{base}_{i}"
            taken.add(name)
            x, y = item.get("pos", (0.0, 0.0))
            nodes.append(LayerNode(new_id, item["class_name"], name, item.get("config", {}),
                                   (float(x) + dx, float(y) + dy)))
        edges = [Edge(id_map[s], id_map[d], int(dp), int(sp)) for s, d, dp, sp in data.get("edges", [])
                 if s in id_map and d in id_map]
        if not nodes:
            return []
        self._push(commands.Paste(doc, nodes, edges, text=f"{what} {len(nodes)} layer{'s' * (len(nodes) != 1)}"))
        new_ids = [n.id for n in nodes]
        self.set_selection(new_ids)
        return new_ids

    # ------------------------------------------------------------------ layout
    def auto_layout(self, direction="TB"):
        """Lay the graph out in layers (``"TB"`` top-down or ``"LR"`` left-right); one undo step."""
        if not self.document.nodes:
            return
        from visualkeras_app.document.layout import auto_layout

        positions = auto_layout(self.document, direction=direction)
        self.set_flow(direction)
        if any(tuple(self.document.nodes[n].pos) != tuple(map(float, p)) for n, p in positions.items()
               if n in self.document.nodes):
            self._push(commands.ApplyLayout(self.document, positions, text=f"Auto-layout ({direction})"))

    # ------------------------------------------------------------------ selection
    def selection(self) -> list:
        return list(self._selection)

    def set_selection(self, ids):
        ids = [i for i in dict.fromkeys(ids) if i in self.document.nodes]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(list(ids))

    def select_all(self):
        self.set_selection(list(self.document.nodes))

    def selected_edges(self) -> list:
        return list(self._selected_edges)

    def set_selected_edges(self, edges):
        """Set by the canvas: the selected connections (Delete removes them with the nodes)."""
        self._selected_edges = [e for e in edges if e in self.document.edges]

    # ------------------------------------------------------------------ document
    def replace_document(self, doc: Document):
        """Swap in a new document (File > New / Open): the undo history is cleared."""
        self.undo_stack.clear()
        self.document = doc
        self._selected_edges = []
        self._last_paste = (None, 0)
        if doc.result is None and doc.nodes:
            doc.infer()
        self.flow = guess_flow(doc, self.flow)
        self.document_replaced.emit()
        self.flow_changed.emit(self.flow)
        if self._selection:
            self._selection = []
            self.selection_changed.emit([])
        self.undo_stack.setClean()

    def is_clean(self) -> bool:
        return self.undo_stack.isClean()
