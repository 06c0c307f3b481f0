"""``Variable``: a weight with Keras 3's surface that is still the ``torch.nn.Parameter`` torch sees.

Keras code reads and writes weights through ``.value``, ``.assign``, ``.assign_add``, ``.numpy()``,
``.name``, ``.path`` and ``.trainable``; PyTorch code hands ``model.parameters()`` to ``torch.optim``
and reads ``v.value.grad``. An engine ``Variable`` is both: a ``Parameter`` subclass (so
``parameters()``, optimizers, DDP and ``state_dict`` see it unchanged) whose ``value`` is itself.

One difference with Keras stays: ``dtype`` is torch's (``torch.float32``), because torch itself reads
it; ``engine.ops.dtype(v)`` gives Keras's string.
"""
from __future__ import annotations

import weakref

import numpy as np
import torch
from torch import nn

from engine import backend, initializers


class Variable(nn.Parameter):
    """A weight: ``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``.

    Args:
        initializer: an initial value (array, tensor, Python number) or an initializer (a name such
            as ``"glorot_uniform"``, an ``engine.initializers`` object or a callable taking
            ``(shape, dtype)``), which then needs ``shape``.
        shape: the shape, when ``initializer`` is not a value.
        dtype: the dtype (``backend.floatx()`` for initializers; the value's own dtype otherwise).
        trainable: whether training updates it (sets ``requires_grad``).
        name: the variable's name (``path`` is ``layer_name/name`` once a layer owns it).

    Example::

        v = engine.Variable(np.zeros((2, 3)), name="state")
        v.assign_add(np.ones((2, 3)))
        v.numpy()   # array of ones
    """

    def __new__(cls, initializer=None, shape=None, dtype=None, trainable=True, autocast=True, aggregation="none",
                synchronization="auto", name=None, **kwargs):
        kwargs.pop("overwrite_with_gradient", None)
        if kwargs:
            raise TypeError(f"Variable: unrecognized keyword argument(s) {sorted(kwargs)}")
        if initializer is None:
            raise ValueError("Variable needs an initial value or an initializer. Received: initializer=None")
        value = _initial_value(initializer, shape, dtype)
        trainable = bool(trainable)
        obj = torch.Tensor._make_subclass(cls, value, trainable and (value.is_floating_point() or value.is_complex()))
        obj._keras_trainable = trainable
        obj.keras_name = name or "variable"
        obj.keras_path = None
        obj._owner = None
        return obj

    def __init__(self, *args, **kwargs):  # everything happens in __new__ (Parameter has no __init__)
        pass

    @classmethod
    def adopt(cls, tensor, trainable=True, name=None):
        """A Variable that takes over ``tensor``'s memory instead of copying it, for a tensor its caller
        has just made and keeps no other reference to (``Layer.add_weight``'s initial value): a layer's
        weight is then written once, not twice (NASNetLarge's 89 million weights cost 2 s to clone)."""
        obj = cls.__new__(cls, torch.empty(0, dtype=tensor.dtype, device=tensor.device), trainable=trainable,
                          name=name)
        obj.data = tensor.detach()
        return obj

    # ------------------------------------------------------------------ Keras's surface
    @property
    def value(self):
        """The current value: the tensor itself (its ``.grad`` is the gradient after ``backward()``)."""
        return self

    @property
    def name(self):
        return self.keras_name

    @property
    def path(self):
        """``layer_name/variable_name`` for a layer's weight, else the name."""
        return self.keras_path or self.keras_name

    @property
    def trainable(self):
        """Whether training updates it: False also while its layer is frozen (``layer.trainable = False``)."""
        owner = self._owner() if self._owner is not None else None
        return self._keras_trainable and (owner is None or owner.trainable)

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._keras_trainable = value
        owner = self._owner() if self._owner is not None else None
        if owner is not None:
            owner.set_weight_trainable(self, value)
        else:
            self.requires_grad_(value and self.is_floating_point())

    def assign(self, value):
        """Replace the value (same shape); returns the variable."""
        value = self._coerce(value)
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, value):
        with torch.no_grad():
            self.add_(self._coerce(value))
        return self

    def assign_sub(self, value):
        with torch.no_grad():
            self.sub_(self._coerce(value))
        return self

    def numpy(self, *args, **kwargs):
        """A NumPy copy of the value (on the CPU, without gradient)."""
        return self.detach().cpu().numpy()

    def _coerce(self, value):
        v = getattr(value, "value", value) if not isinstance(value, torch.Tensor) else value
        if not isinstance(v, torch.Tensor):
            v = torch.as_tensor(np.asarray(v))
        v = v.to(device=self.device, dtype=self.dtype)
        if tuple(v.shape) != tuple(self.shape):
            raise ValueError(f"The shape of the target variable and the shape of the target value in "
                             f"`variable.assign(value)` must match. variable.shape={tuple(self.shape)}, Received: "
                             f"value.shape={tuple(v.shape)}. Target variable: {self.path}")
        return v

    def attach(self, layer, name):
        """Record the layer that owns this weight (for ``path`` and ``trainable``)."""
        self.keras_name = name
        self.keras_path = f"{layer.name}/{name}"
        self._owner = weakref.ref(layer)

    # ------------------------------------------------------------------ copying and pickling
    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Variable(self.data.clone(memory_format=torch.preserve_format), trainable=self._keras_trainable,
                       name=self.keras_name)
        out.requires_grad_(self.requires_grad)
        out.keras_path = self.keras_path
        for k, v in self.__dict__.items():
            if k not in ("_keras_trainable", "keras_name", "keras_path", "_owner"):
                out.__dict__[k] = v
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, proto):
        return (_rebuild_variable, (self.data, self.requires_grad, self._keras_trainable, self.keras_name,
                                    self.keras_path))

    def __repr__(self):
        dtype = str(self.dtype).replace("torch.", "")
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={dtype}, value={self.numpy()}>"


def _rebuild_variable(data, requires_grad, trainable, name, path):
    v = Variable(data, trainable=trainable, name=name)
    v.requires_grad_(requires_grad)
    v.keras_path = path
    return v


def _initial_value(initializer, shape, dtype):
    if isinstance(initializer, torch.Tensor) or isinstance(initializer, (np.ndarray, np.generic, int, float, bool,
                                                                        list, tuple)):
        value = initializer.detach() if isinstance(initializer, torch.Tensor) else torch.as_tensor(
            np.asarray(initializer))
        if value.dtype == torch.float64 and not isinstance(initializer, (torch.Tensor, np.ndarray)):
            value = value.to(backend.torch_dtype(None))
        if dtype is not None:
            value = value.to(backend.torch_dtype(dtype))
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(f"Initial value shape {tuple(value.shape)} does not match shape={tuple(shape)}")
        return value.clone()
    if shape is None:
        raise ValueError(f"When creating a Variable from an initializer, the `shape` argument must be specified. "
                         f"Received: initializer={initializer!r} and shape={shape}")

    init = initializers.get(initializer) if isinstance(initializer, (str, dict)) else initializer
    value = init(tuple(shape), dtype=dtype or backend.floatx())
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(np.asarray(value))
    return value.to(backend.torch_dtype(dtype)).detach().clone()
