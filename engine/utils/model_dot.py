"""``model_to_dot``: a model's graph as Graphviz DOT text (``keras.utils.model_to_dot``), built from the
engine's own graph without pydot, Graphviz or Qt.

With pydot installed it returns a ``pydot.Dot`` as Keras does; without, a ``DotGraph`` with the same
everyday methods (``to_string``, ``write``, ``create``), which needs Graphviz's ``dot`` program only to
make pictures. Nested models are drawn as one box, or with ``expand_nested=True`` as a cluster of their
own layers; ``show_trainable=True`` marks each layer Trainable or Frozen (frozen ones in grey).
"""
from __future__ import annotations

import os
import shutil
import subprocess

from engine.models.functional import Functional
from engine.models.model import Model
from engine.models.sequential import Sequential


class DotGraph:
    """DOT text with pydot's everyday methods: ``to_string()``, ``write(path, format="raw")`` and
    ``create(prog="dot", format="png")``."""

    def __init__(self, source):
        self.source = source

    def to_string(self):
        return self.source

    __str__ = to_string

    def create(self, prog="dot", format="png"):
        """The picture's bytes, drawn by Graphviz's ``prog``; ``format="raw"`` gives the DOT text."""
        if format in ("raw", "dot"):
            return self.source.encode("utf-8")
        exe = shutil.which(prog)
        if exe is None:
            raise ImportError(f"Drawing a DOT graph as {format!r} needs Graphviz's {prog!r} program, which is not "
                              "installed (e.g. `apt install graphviz` or `brew install graphviz`). "
                              "write(path) with format='raw' saves the DOT text without it.")
        result = subprocess.run([exe, f"-T{format}"], input=self.source.encode("utf-8"), capture_output=True,
                                timeout=120)
        if result.returncode != 0:
            raise ValueError(f"Graphviz's {prog!r} failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def write(self, path, prog="dot", format="raw"):
        with open(path, "wb") as f:
            f.write(self.create(prog=prog, format=format))
        return True


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shape_text(tensors):
    shapes = [tuple(t.shape) for t in tensors]
    return ", ".join(str(s) for s in shapes) if len(shapes) != 1 else str(shapes[0])


def _is_model(layer):
    return isinstance(layer, Model)


def _graph_nodes(model):
    """The model's nodes in graph order (each once) and the layers with no graph (a Sequential without
    an Input): ``(nodes, None)`` or ``(None, layers)``."""
    outputs = getattr(model, "outputs", None)
    try:
        outputs = list(outputs) if outputs else None
    except (AttributeError, TypeError, ValueError):
        outputs = None
    if not outputs:
        return None, list(model.layers)
    seen, order = set(), []

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parent_nodes:
            visit(parent)
        order.append(node)

    for t in outputs:
        h = getattr(t, "_keras_history", None)
        if h is not None:
            visit(h.operation.inbound_nodes[h.node_index])
    return order, None


class _Writer:
    def __init__(self, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable,
                 expand_nested):
        self.show_shapes, self.show_dtype, self.show_layer_names = show_shapes, show_dtype, show_layer_names
        self.show_layer_activations, self.show_trainable = show_layer_activations, show_trainable
        self.expand_nested = expand_nested
        self.lines, self.count = [], 0

    def _id(self):
        self.count += 1
        return f"n{self.count}"

    def _label(self, layer, node):
        cls = type(layer).__name__
        rows = [f"{layer.name} ({cls})" if self.show_layer_names else cls]
        if self.show_layer_activations:
            act = getattr(layer, "activation", None)
            name = getattr(act, "__name__", None) if act is not None else None
            if name:
                rows.append(f"Activation: {name}")
        if self.show_dtype:
            dtype = getattr(layer, "dtype", None)
            rows.append(f"dtype: {getattr(dtype, 'name', dtype)}")
        if self.show_shapes and node is not None:
            if node.input_tensors:
                rows.append(f"Input shape: {_shape_text(node.input_tensors)}")
            rows.append(f"Output shape: {_shape_text(node.outputs)}")
        if self.show_trainable:
            rows.append("Trainable" if layer.trainable else "Frozen")
        return "\\n".join(r.replace("\\", "\\\\").replace('"', '\\"') for r in rows)

    def _box(self, layer, node, indent):
        nid = self._id()
        style = ', style=filled, fillcolor="lightgrey"' if self.show_trainable and not layer.trainable else ""
        self.lines.append(f'{indent}{nid} [label="{self._label(layer, node)}"{style}];')
        return nid

    def model(self, model, indent="  "):
        """Writes ``model``'s layers; returns ``(entry ids per input, exit ids per output)``."""
        nodes, plain = _graph_nodes(model)
        if nodes is None:  # a Sequential without an Input: a chain of boxes
            ids = [self._box(layer, None, indent) for layer in plain]
            for a, b in zip(ids, ids[1:]):
                self.lines.append(f"{indent}{a} -> {b};")
            return (ids[:1], ids[-1:]) if ids else ([], [])
        exits = {}   # id(node) -> ids whose output the node's consumers read
        entries = {}  # id(node) -> ids that receive the node's inputs
        for node in nodes:
            layer = node.operation
            if self.expand_nested and _is_model(layer) and node.input_tensors:
                cluster = f"cluster_{self._id()}"
                self.lines.append(f"{indent}subgraph {cluster} {{")
                self.lines.append(f"{indent}  label={_quote(layer.name)};")
                inner_entries, inner_exits = self.model(layer, indent + "  ")
                self.lines.append(f"{indent}}}")
                entries[id(node)], exits[id(node)] = inner_entries, inner_exits
            else:
                nid = self._box(layer, node, indent)
                entries[id(node)], exits[id(node)] = [nid], [nid]
            for parent in node.parent_nodes:
                for src in exits.get(id(parent), []):
                    for dst in entries[id(node)]:
                        self.lines.append(f"{indent}{src} -> {dst};")
        model_inputs = [n for n in nodes if n.is_input or not n.input_tensors]
        outs = []
        for t in model.outputs:
            h = t.keras_history
            outs += exits.get(id(h.operation.inbound_nodes[h.node_index]), [])
        return [i for n in model_inputs for i in entries[id(n)]], outs


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, **kwargs):
    """``model``'s graph in Graphviz's DOT language, with Keras's arguments.

    Args:
        model: a Sequential or functional model (a subclassed model has no graph to draw).
        show_shapes, show_dtype, show_layer_names, show_layer_activations: what each box says.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: draw nested models as clusters of their layers instead of one box.
        dpi: the picture's resolution when drawn.
        subgraph: return the graph as a cluster (for embedding in another graph).
        show_trainable: mark each layer Trainable or Frozen (frozen boxes grey).
        **kwargs: Keras's ``layer_range`` (refused: the whole model is drawn) and pydot styling such as
            ``splines``.

    Returns:
        a ``pydot.Dot`` when pydot is installed (as Keras returns), else an ``engine.utils.model_dot.DotGraph``
        (``to_string()``, ``write(path, format=...)``, ``create(format=...)``).

    Raises:
        ValueError: a subclassed model, an unknown ``rankdir``, or ``layer_range``.
    """
    if kwargs.get("layer_range") is not None:
        raise ValueError("model_to_dot(layer_range=...) is not supported: the whole model is drawn.")
    unknown = set(kwargs) - {"layer_range", "splines"}
    if unknown:
        raise TypeError(f"model_to_dot() got unexpected keyword argument(s) {sorted(unknown)}.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if not _is_model(model):
        raise ValueError(f"model_to_dot draws a Model; received {type(model).__name__}.")

    if not isinstance(model, (Functional, Sequential)) and not getattr(model, "outputs", None):
        raise ValueError(f"model_to_dot cannot draw the subclassed model {model.name!r}: its layers are connected "
                         "only inside call(). Build it with the functional API (or Sequential) to draw it.")
    writer = _Writer(show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable,
                     expand_nested)
    writer.model(model)
    kind = f"subgraph cluster_{model.name}" if subgraph else "digraph G"
    head = [f"{kind} {{", f"  rankdir={rankdir};", "  concentrate=True;", f"  dpi={int(dpi)};",
            '  node [shape=box, fontname="Helvetica"];']
    if kwargs.get("splines"):
        head.append(f"  splines={kwargs['splines']};")
    source = "\n".join(head + writer.lines + ["}"]) + "\n"
    try:
        import pydot  # optional dependency: pydot
    except ImportError:
        return DotGraph(source)
    return pydot.graph_from_dot_data(source)[0]


def write_picture(dot, to_file, dpi=200):
    """Writes ``dot`` (a DotGraph or pydot.Dot) to ``to_file``, the format from its extension."""
    ext = os.path.splitext(os.fspath(to_file))[1].lower().lstrip(".") or "png"
    data = dot.create(prog="dot", format="raw" if ext == "dot" else ext)
    with open(to_file, "wb") as f:
        f.write(data)
