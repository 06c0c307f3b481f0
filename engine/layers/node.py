"""Nodes: a model is a graph whose nodes are layer calls and whose edges are symbolic tensors
(Keras's ``ops/node.py`` vocabulary; ``KerasTensor`` lives in ``engine.keras_tensor`` and is re-exported
here under its old name). Nothing here runs torch."""
from __future__ import annotations

from engine.keras_tensor import KerasHistory, KerasTensor  # noqa: F401 - KerasTensor re-exported


def flatten(structure):
    """Flatten nested lists/tuples/dicts into a list of leaves (dicts in key-sorted order)."""
    if isinstance(structure, (list, tuple)):
        out = []
        for s in structure:
            out.extend(flatten(s))
        return out
    if isinstance(structure, dict):
        out = []
        for k in sorted(structure):
            out.extend(flatten(structure[k]))
        return out
    return [structure]


def pack_like(structure, flat, _pos=None):
    """Inverse of ``flatten``: rebuild ``structure``'s shape from the leaves in ``flat``."""
    it = iter(flat)

    def rec(s):
        if isinstance(s, (list, tuple)):
            return type(s)(rec(x) for x in s) if isinstance(s, tuple) else [rec(x) for x in s]
        if isinstance(s, dict):
            return {k: rec(s[k]) for k in sorted(s)}
        return next(it)

    return rec(structure)


def is_symbolic(structure) -> bool:
    return any(isinstance(x, KerasTensor) for x in flatten(structure))


class Node:
    """One call of a layer on symbolic tensors.

    ``input_tensors`` are the flat KerasTensors it read, ``arguments`` the structure they were passed in
    (one tensor, or a list for merges), ``outputs`` the KerasTensors it made, ``call_kwargs`` the
    non-tensor keyword arguments of the call.
    """

    def __init__(self, operation, arguments=None, outputs=None, call_kwargs=None):
        self.operation = operation
        self.arguments = arguments
        self.input_tensors = [t for t in flatten(arguments)] if arguments is not None else []
        self.outputs = flatten(outputs) if outputs is not None else []
        self.output_structure = outputs
        self.call_kwargs = dict(call_kwargs or {})
        self.is_input = arguments is None
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = KerasHistory(operation, node_index, i)
        for t in self.input_tensors:
            parent = t._keras_history.operation if t._keras_history else None
            if parent is not None:
                parent._outbound_nodes.append(self)

    @property
    def layer(self):
        return self.operation

    @property
    def parent_nodes(self):
        out = []
        for t in self.input_tensors:
            h = t._keras_history
            if h is not None:
                out.append(h.operation._inbound_nodes[h.node_index])
        return out

    def __repr__(self):
        return f"<Node of {self.operation.name!r} ({len(self.input_tensors)} in, {len(self.outputs)} out)>"
