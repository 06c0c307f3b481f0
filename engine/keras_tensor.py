"""The symbolic tensor: what ``engine.Input`` and a layer called on one give (Keras's
``backend/common/keras_tensor.py``). It sits below the ops and the layers, which both import it;
nothing here imports either.

Its operators (``x + 1``, ``x[:, 0]``) are ops of ``engine.ops``, which lives above this module:
``engine.ops`` hands itself over with ``use_ops`` when it loads, and a KerasTensor's operators call it.
Whether a tensor will carry a mask is its operation's answer (``Layer.output_carries_mask``).
"""
from __future__ import annotations

from collections import namedtuple

KerasHistory = namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])

_OPS = []  # [the engine.ops module], once it has loaded


def use_ops(module):
    """Called by ``engine.ops`` when it loads: a KerasTensor's operators are that module's ops."""
    _OPS[:] = [module]


def _ops():
    if not _OPS:  # only while engine.ops itself loads
        raise RuntimeError("engine.ops has not finished loading: a KerasTensor's operators are its ops.")
    return _OPS[0]


def _op_method(name, reflected=False):
    """A KerasTensor operator that calls ``engine.ops.<name>`` (a node in the graph, as in Keras)."""

    def method(self, *args):
        fn = getattr(_ops(), name)
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
        history = self._keras_history
        if history is None or not history.operation.output_carries_mask(self):
            return None
        return KerasTensor(self.shape[:-1], dtype="bool")

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
        return _ops().round(self, decimals=ndigits or 0)

    def reshape(self, newshape):
        return _ops().reshape(self, newshape)

    def squeeze(self, axis=None):
        return _ops().squeeze(self, axis=axis)

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __array__(self, *a, **k):
        raise TypeError(
            "A symbolic KerasTensor (from Input or a layer called on one) cannot be turned into a NumPy "
            "array. Build a Model from it and call model.predict() on data instead."
        )
