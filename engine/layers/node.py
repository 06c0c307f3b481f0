"""Symbolic tensors and nodes: a model is a graph whose nodes are layer calls and whose edges are
tensors (Keras's ``ops/node.py`` vocabulary). Nothing here runs torch."""
from __future__ import annotations

from collections import namedtuple

KerasHistory = namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])


def _op_method(name, reflected=False):
    """A KerasTensor operator that calls ``engine.ops.<name>`` (a node in the graph, as in Keras)."""

    def method(self, *args):
        from engine import ops  # engine.ops imports engine.layers: cycle

        fn = getattr(ops, name)
        return fn(args[0], self) if reflected else fn(self, *args)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


class KerasTensor:
    """A symbolic tensor: a shape (``None`` for unknown sizes), a dtype and where it came from.

    Arithmetic, comparisons (except ``==``/``!=``, which compare identity here) and indexing are ops
    of ``engine.ops``: ``x * 2`` or ``x[:, 0]`` inside a functional model adds a node, as in Keras.
    """

    def __init__(self, shape, dtype="float32", name=None, keras_history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = keras_history

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def keras_history(self):
        """Where this tensor came from: ``(operation, node_index, tensor_index)`` (a ``KerasHistory``), or
        None for a tensor no layer made. ``keras_history.operation`` is the layer whose call made it."""
        return self._keras_history

    @property
    def _keras_mask(self):
        """The mask this tensor will carry when the model runs, as a symbolic bool tensor of its shape
        without the last axis (Keras's ``x._keras_mask`` after ``Embedding(mask_zero=True)``); None
        when no mask reaches it."""
        if "_mask_override" in self.__dict__:
            return self.__dict__["_mask_override"]
        from engine.layers.layer import _has_symbolic_mask  # engine.layers.layer imports this module: cycle

        return KerasTensor(self.shape[:-1], dtype="bool") if _has_symbolic_mask(self) else None

    @_keras_mask.setter
    def _keras_mask(self, mask):
        self.__dict__["_mask_override"] = mask

    def __repr__(self):
        origin = self._keras_history.operation.name if self._keras_history else "?"
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, from={origin!r}>"

    def __bool__(self):  # guards against `if tensor:` in user code, as Keras does
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    __add__, __radd__ = _op_method("add"), _op_method("add", True)
    __sub__, __rsub__ = _op_method("subtract"), _op_method("subtract", True)
    __mul__, __rmul__ = _op_method("multiply"), _op_method("multiply", True)
    __matmul__, __rmatmul__ = _op_method("matmul"), _op_method("matmul", True)
    __truediv__, __rtruediv__ = _op_method("true_divide"), _op_method("true_divide", True)
    __floordiv__, __rfloordiv__ = _op_method("floor_divide"), _op_method("floor_divide", True)
    __mod__, __rmod__ = _op_method("mod"), _op_method("mod", True)
    __pow__, __rpow__ = _op_method("power"), _op_method("power", True)
    __and__, __rand__ = _op_method("logical_and"), _op_method("logical_and", True)
    __or__, __ror__ = _op_method("logical_or"), _op_method("logical_or", True)
    __xor__, __rxor__ = _op_method("logical_xor"), _op_method("logical_xor", True)
    __lt__, __le__ = _op_method("less"), _op_method("less_equal")
    __gt__, __ge__ = _op_method("greater"), _op_method("greater_equal")
    __neg__, __abs__, __invert__ = _op_method("negative"), _op_method("absolute"), _op_method("logical_not")
    __getitem__ = _op_method("get_item")

    def __round__(self, ndigits=None):
        from engine import ops  # engine.ops imports engine.layers: cycle

        return ops.round(self, decimals=ndigits or 0)

    def reshape(self, newshape):
        from engine import ops  # engine.ops imports engine.layers: cycle

        return ops.reshape(self, newshape)

    def squeeze(self, axis=None):
        from engine import ops  # engine.ops imports engine.layers: cycle

        return ops.squeeze(self, axis=axis)

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __array__(self, *a, **k):
        raise TypeError(
            "A symbolic KerasTensor (from Input or a layer called on one) cannot be turned into a NumPy "
            "array. Build a Model from it and call model.predict() on data instead."
        )


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
