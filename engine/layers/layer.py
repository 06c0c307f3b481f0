"""The base ``Layer``: Keras's five parts (``__init__``, ``build``, ``call``, ``compute_output_shape``,
``get_config``) on a ``torch.nn.Module``.

Weights are stored in Keras's layout (a Dense kernel is ``(in, out)``, a Conv2D kernel
``(kh, kw, in, out)``), so ``get_weights``/``set_weights`` and the file formats need no conversion.
"""
from __future__ import annotations

import contextlib
import contextvars
import inspect

import numpy as np
import torch
from torch import nn

from engine import backend, constraints, initializers, mixed_precision, regularizers
from engine.mixed_precision import DTypePolicy
from engine.variables import Variable
from engine.layers.node import KerasTensor, Node, flatten, is_symbolic
from engine.ops._dispatch import compute_output_spec

# While a model is built from an untrusted config (a file), each weight is checked against a budget
# before memory is taken: a config asking for Dense(units=10**10) is refused, not allocated.
WEIGHT_BUDGET: contextvars.ContextVar = contextvars.ContextVar("weight_budget", default=None)
# True inside `shapes_only()`: every new weight is zeros (on torch's meta device, which the context enters).
_SHAPES_ONLY: contextvars.ContextVar = contextvars.ContextVar("shapes_only", default=False)
# True inside `weights_from_file()`: every new weight starts as zeros (a file's values replace it at once).
_FROM_FILE: contextvars.ContextVar = contextvars.ContextVar("weights_from_file", default=False)
# True inside a layer's call: only the outermost call clears the add_loss terms of the last one.
_IN_CALL: contextvars.ContextVar = contextvars.ContextVar("in_layer_call", default=False)
# Set once some layer calls add_loss: until then no forward pass looks for loss terms.
_ADD_LOSS_USED = False



def add_loss_used():
    """Whether some layer has called ``add_loss`` in this process: until then no forward pass looks for
    loss terms (the trainer skips that work)."""
    return _ADD_LOSS_USED


@contextlib.contextmanager
def outermost_call():
    """Run a model's forward pass as the outermost layer call: the layers called inside keep adding to
    the ``add_loss`` terms of this pass (the trainer cleared those of the last one)."""
    token = _IN_CALL.set(True)
    try:
        yield
    finally:
        _IN_CALL.reset(token)


# Keyword arguments every layer accepts besides its own (Keras's base Layer arguments).
BASE_KWARGS = {"input_shape", "input_dim", "batch_input_shape", "batch_size", "input_dtype", "weights",
                "activity_regularizer", "autocast", "input_length", "batch_shape"}


@contextlib.contextmanager
def shapes_only():
    """Build layers for their shapes alone: inside, every weight a layer creates is zeros on torch's
    ``meta`` device, so it takes no memory and draws no random numbers (a 10000x64 Embedding costs what
    a Dense(1) costs, an Orthogonal initializer runs no QR decomposition). For shape inference and for
    writing a model's config; a layer or model built inside has shapes and parameter counts but cannot
    run. Nests, and combines with the weight budget of the loaders."""
    token = _SHAPES_ONLY.set(True)
    try:
        with torch.device("meta"):
            yield
    finally:
        _SHAPES_ONLY.reset(token)


@contextlib.contextmanager
def weights_from_file(empty=False):
    """Build layers whose every weight is about to be replaced by a file's values: inside, weights start
    as zeros instead of drawing their initializers' random numbers (NASNetLarge's 89 million weights took
    about 2 of its 4 seconds to load). Only for a loader that refuses a file lacking any weight of the
    model (``keras_zip.load_keras``), so that no zero is ever left where the file had a value.

    Args:
        empty: weights start uninitialized (``torch.empty``: no memory is written until the file's values
            are), for a loader that then writes every weight, or zeros those the file did not hold.
    """
    token = _FROM_FILE.set("empty" if empty else True)
    try:
        yield
    finally:
        _FROM_FILE.reset(token)


def cast_for_kernel(inputs, kernel):
    """``inputs`` in ``kernel``'s dtype for a product with it; unchanged where they already are, or where
    torch.autocast is on for their device, they are in its dtype and the kernel is float32 (a mixed policy):
    the product then runs in that dtype anyway, and a cast to the float32 kernel would only add copies,
    forward and backward."""
    if inputs.dtype == kernel.dtype:
        return inputs
    device = inputs.device.type
    if (kernel.dtype == torch.float32 and torch.is_autocast_enabled(device)
            and inputs.dtype == torch.get_autocast_dtype(device)):
        return inputs
    return inputs.to(kernel.dtype)


def dtype_policy_config(name="float32"):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def standardize_shape(shape):
    """A shape as a tuple of ints or None; refuses negative or non-integer sizes with the value."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"Cannot interpret {shape!r} as a shape. Expected a tuple such as (28, 28, 1).") from None
    out = []
    for d in shape:
        if d is None:
            out.append(None)
            continue
        if isinstance(d, float) and d.is_integer():
            d = int(d)
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0:
            raise ValueError(f"Invalid shape {shape}: every dimension must be a non-negative int or None. "
                             f"Received: {d!r}")
        out.append(int(d))
    return tuple(out)


def shape_of(x):
    """The shape of a KerasTensor, torch tensor or array (or a list of them)."""
    if isinstance(x, (list, tuple)):
        return [shape_of(t) for t in x]
    return tuple(x.shape)


class Layer(nn.Module):
    """Base class of every layer.

    Args:
        name: the layer's name; unique names (``dense``, ``dense_1``...) are made when omitted.
        trainable: whether the layer's weights are updated by training.
        dtype: the layer's compute dtype (``"float32"``).
        input_shape / input_dim / batch_input_shape / batch_size: as in Keras, for the first layer of a
            Sequential model (they create its Input).
    """

    # Facts the file formats read (engine.saving), set by the classes that differ from the default:
    # keras_module: where Keras 3 defines the class (the applications' LayerScale lives outside keras.layers);
    # keras_class_name: the name Keras exports it under, when not the class's own;
    # positional_inputs: Keras calls the layer as call(query, value, key=...): a model config writes the
    # tensors of such a call as separate arguments, not as one list.
    keras_module = "keras.layers"
    keras_class_name = None
    positional_inputs = None

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        super().__init__()
        unknown = set(kwargs) - BASE_KWARGS
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword argument(s) {sorted(unknown)}. "
                f"Check the spelling against the layer's documented arguments."
            )
        if name is None:
            name = backend.unique_name(backend.to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or not name:
            raise ValueError(f"A layer name must be a non-empty string. Received: name={name!r}")
        self.name = name

        # a name, a DTypePolicy or its config; None: the global policy (mixed_precision.set_global_policy)
        dtype = mixed_precision.policy_name(dtype)
        self._dtype = dtype or backend.floatx()
        self._trainable = bool(trainable)
        self.built = False
        self.supports_masking = False
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        self._own_weights: list[nn.Parameter] = []
        self._own_weight_trainable: list[bool] = []
        self._weight_regularizers: list = []  # (param, regularizer) pairs
        self._activity_regularizer = regularizers.get(kwargs.get("activity_regularizer"))
        self._initial_weights = kwargs.get("weights")
        # Sequential turns these into its Input, as Keras does.
        input_shape = kwargs.get("input_shape")
        if kwargs.get("input_dim") is not None:
            input_shape = (kwargs["input_dim"],)
            if kwargs.get("input_length") is not None:  # Keras 2 Embedding(input_length=...)
                input_shape = (kwargs["input_length"],)
        if input_shape is None and kwargs.get("input_length") is not None:
            input_shape = (kwargs["input_length"],)
        batch_shape = kwargs.get("batch_input_shape") or kwargs.get("batch_shape")
        if batch_shape is not None:
            self._batch_input_shape = standardize_shape(batch_shape)
        elif input_shape is not None:
            self._batch_input_shape = (kwargs.get("batch_size"),) + standardize_shape(input_shape)
        else:
            self._batch_input_shape = None
        self._input_dtype = kwargs.get("input_dtype")

    # ------------------------------------------------------------------ properties
    @property
    def dtype(self):
        """The weights' dtype (``"float32"`` under a mixed policy), as Keras's ``layer.dtype``."""
        return "float32" if self._dtype.startswith("mixed_") else self._dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (``"float16"`` under ``"mixed_float16"``)."""
        return self._dtype[len("mixed_"):] if self._dtype.startswith("mixed_") else self._dtype

    @property
    def dtype_policy(self):
        return DTypePolicy(self._dtype)

    @dtype_policy.setter
    def dtype_policy(self, value):
        """Keras 3's setter: a policy, its name or its config. A built layer keeps its weights, so it takes only
        a policy that stores them in the same dtype (``"float32"`` to ``"mixed_bfloat16"`` and back)."""
        name = DTypePolicy(mixed_precision.policy_name(value) or backend.floatx()).name  # refuses unknown names
        if self.built and DTypePolicy(name).variable_dtype != self.dtype:
            same = [p for p in mixed_precision.POLICY_NAMES if DTypePolicy(p).variable_dtype == self.dtype]
            raise ValueError(
                f"Layer {self.name!r} is built with {self.dtype} weights; the policy {name!r} keeps "
                f"{DTypePolicy(name).variable_dtype} weights. Set one that keeps {self.dtype} weights "
                f"({', '.join(same)}), or make the layer again with dtype={name!r}.")
        self._dtype = name

    @property
    def variable_dtype(self):
        return self.dtype

    @property
    def batch_input_shape(self):
        """The input shape given to the layer (``input_shape``/``input_dim``/``batch_input_shape``), with the
        batch axis; None when none was: a Sequential makes its Input from the first layer's."""
        return self._batch_input_shape

    @property
    def input_dtype(self):
        """The ``input_dtype`` given to the layer (for the Input a Sequential makes), or None."""
        return self._input_dtype

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for p, t in zip(self._own_weights, self._own_weight_trainable):
            p.requires_grad_(value and t)
        for sub in self._sublayers():
            sub.trainable = value

    def _sublayers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    @property
    def weight_regularizers(self):
        """``[(weight, regularizer)]`` of this layer's own weights (not its sub-layers')."""
        return list(self._weight_regularizers)

    def sublayers(self):
        """The layers inside this one whose weights are part of its ``weights`` (an RNN's cell, a
        Bidirectional's two RNNs, a model's layers)."""
        return self._sublayers()

    def saveable_children(self):
        """``[(attribute, sub-layer or list of sub-layers)]`` in the order Keras's saving visits them
        (``_walk_saveable``: by attribute name, private names last): the paths of the ``.keras`` weights
        tree (``layers/lstm/cell``). A list of sub-layers (``StackedRNNCells.cells``) is one entry."""
        items = [(k, m) for k, m in self._modules.items() if isinstance(m, Layer)]
        items += [(k, [c for c in m if isinstance(c, Layer)]) for k, m in self._modules.items()
                  if isinstance(m, nn.ModuleList)]
        return sorted(items, key=lambda kv: saveable_key(kv[0]))

    def own_variables(self):
        """This layer's own weights (not its sub-layers'), trainable ones first, then non-trainable ones:
        the order Keras stores them in a weights file (``<path>/vars/0, 1...``)."""
        flags = self._own_weight_trainable
        return ([p for p, t in zip(self._own_weights, flags) if t]
                + [p for p, t in zip(self._own_weights, flags) if not t])

    def save_own_variables(self, store):
        """Write this layer's own weights into ``store`` (a dict-like) under "0", "1"... as Keras does."""
        for i, p in enumerate(self.own_variables()):
            store[str(i)] = p.detach().cpu().numpy()

    def load_own_variables(self, store):
        """Read the weights ``save_own_variables`` wrote (or Keras's) back, checking their count and shapes
        before any weight changes."""
        params = self.own_variables()
        if len(store.keys()) != len(params):
            raise ValueError(f"Layer {self.name!r} expects {len(params)} variables, the store has "
                             f"{len(store.keys())}.")
        values = [np.asarray(store[str(i)]) for i in range(len(params))]
        for p, v in zip(params, values):
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"Layer {self.name!r}: variable {p.path!r} has shape {tuple(p.shape)}, the "
                                 f"stored value {tuple(v.shape)}.")
        with torch.no_grad():
            for p, v in zip(params, values):
                v = np.ascontiguousarray(v).reshape(v.shape)  # (a 0-d value stays 0-d)
                p.copy_(torch.as_tensor(v).to(dtype=p.dtype, device=p.device))

    def forget_calls(self):
        """Forget the symbolic calls recorded on this layer (its inbound and outbound nodes). A model that was
        only read (to show it) is then freed at once by reference counting: its nodes point back at their
        layers, which made the layers and tensors cyclic garbage for Python's collector to walk."""
        self._inbound_nodes.clear()
        self._outbound_nodes.clear()

    @property
    def inbound_nodes(self):
        """The calls of this layer on symbolic tensors, in order (Keras's ``layer.inbound_nodes``): each
        node has ``arguments``, ``call_kwargs``, ``input_tensors``, ``outputs`` and ``is_input``. The layer's
        own list, for reading (``forget_calls`` empties it)."""
        return self._inbound_nodes

    @property
    def weights(self):
        """Trainable then non-trainable weights of this layer, then its sub-layers' (Keras's order)."""
        own = [p for p, t in zip(self._own_weights, self._own_weight_trainable) if t]
        own += [p for p, t in zip(self._own_weights, self._own_weight_trainable) if not t]
        seen = {id(w) for w in own}  # a weight shared by sub-layers counts once (a set: linear in the weights)
        for sub in self._sublayers():
            for w in sub.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    own.append(w)
        return own

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out = [p for p, t in zip(self._own_weights, self._own_weight_trainable) if t]
        seen = {id(w) for w in out}
        for sub in self._sublayers():
            for w in sub.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def non_trainable_weights(self):
        trainable = {id(t) for t in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def variables(self):
        return self.weights

    # ------------------------------------------------------------------ weights
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None, **kwargs):
        """Create a weight of ``shape`` in Keras layout and register it on the module."""
        shape = standardize_shape(shape if shape is not None else ())
        if WEIGHT_BUDGET.get() is not None:
            WEIGHT_BUDGET.get().spend(shape, self.name)
        torch_dtype = backend.torch_dtype(dtype or self._dtype)
        fresh = True  # whether `value` is a tensor made here, that no one else holds
        if _FROM_FILE.get() == "empty" and not _SHAPES_ONLY.get():
            value = torch.empty(shape, dtype=torch_dtype)  # the file writes it once, straight into this memory
        else:
            if _SHAPES_ONLY.get() or _FROM_FILE.get():
                initializer = "zeros"
            elif initializer is None:
                initializer = "glorot_uniform" if dtype is None or "float" in str(dtype) else "zeros"
            init = initializers.get(initializer)
            value = init(shape, dtype=dtype or self._dtype)
            # The engine's initializers return new tensors; a user's may return one it keeps.
            fresh = type(init).__module__ == initializers.__name__
            if not isinstance(value, torch.Tensor):
                value = torch.as_tensor(np.asarray(value), dtype=torch_dtype)
        if name is None:
            name = f"variable_{len(self._own_weights)}"
        # A Variable is the nn.Parameter torch sees, with Keras's surface (.value, .assign, .path...). It takes
        # over a fresh value's memory: a copy costs as much as drawing the value.
        value = value.to(torch_dtype)
        param = (Variable.adopt(value, trainable=trainable, name=name) if fresh
                 else Variable(value, trainable=trainable, name=name))
        param.requires_grad_(bool(trainable) and self._trainable and param.is_floating_point())
        attr = name
        while attr in self._parameters or attr in self.__dict__:
            attr = attr + "_"
        self.register_parameter(attr, param)
        param.attach(self, name)  # keras_name (the file formats use it) and keras_path
        self._own_weights.append(param)
        self._own_weight_trainable.append(bool(trainable))
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((param, regularizer))
        constraint = constraints.get(constraint)
        if constraint is not None:
            param.constraint = constraint  # applied by the trainer after each optimizer step
        return param

    def set_weight_trainable(self, param, value):
        """``variable.trainable = value`` for one of this layer's own weights."""
        for i, p in enumerate(self._own_weights):
            if p is param:
                self._own_weight_trainable[i] = bool(value)
                p.requires_grad_(bool(value) and self._trainable and p.is_floating_point())
                return
        raise ValueError(f"{param.path} is not a weight of layer {self.name!r}.")

    def get_weights(self):
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r} expects {len(params)} weight array(s) "
                f"{[tuple(p.shape) for p in params]}, but received {len(weights)}."
            )
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight shape mismatch: expected {tuple(p.shape)}, received {tuple(w.shape)}."
                )
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer {self.name!r}, but the layer isn't built. "
                "Call it on an input or give the model an input shape first."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def add_loss(self, loss):
        """Add a loss term (a scalar tensor, or a list of them) computed in ``call``, as in Keras.

        The terms are kept until the next top-level call of the layer (or of the model holding it),
        are listed in ``losses`` and are added to the loss that ``fit`` minimises.
        """
        global _ADD_LOSS_USED
        _ADD_LOSS_USED = True
        added = self.__dict__.setdefault("_added_losses", [])
        for term in (loss if isinstance(loss, (list, tuple)) else [loss]):
            if not isinstance(term, torch.Tensor):
                term = torch.as_tensor(term, dtype=backend.torch_dtype(backend.floatx()))
            added.append(term)

    def _clear_losses(self):
        """Forget the ``add_loss`` terms of this layer and its sub-layers (a new forward pass starts)."""
        stack = [self]
        while stack:
            layer = stack.pop()
            if layer.__dict__.get("_added_losses"):
                layer._added_losses = []
            stack.extend(layer._sublayers())

    @property
    def losses(self):
        """The ``add_loss`` terms of the last call, then the weight regularization penalties, of this
        layer and its sub-layers, as scalar tensors."""
        out = list(self.__dict__.get("_added_losses") or ())
        out += [reg(p) for p, reg in self._weight_regularizers]
        for sub in self._sublayers():
            out.extend(sub.losses)
        return out

    # ------------------------------------------------------------------ build / call
    def build(self, input_shape):
        self.built = True

    def build_from_config(self, config):
        """Build the layer from ``get_build_config()``'s dict, as Keras does when it loads a file:
        ``build(config["input_shape"])`` (or ``build(**config["shapes_dict"])``); nothing for None or
        an already built layer."""
        if not config or self.built:
            return
        if "input_shape" in config:
            self._maybe_build(config["input_shape"])
        elif "shapes_dict" in config:
            self.build(**config["shapes_dict"])
            self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch size may be None).

        A subclass that writes ``call`` but not ``compute_output_shape`` gets its shape from running
        ``call`` on placeholder tensors (of torch's ``meta`` device where possible), as Keras does.
        """
        if not self._infers_by_calling():
            return input_shape
        spec = self._call_spec((make_outputs(input_shape, "float32"),), {})
        shapes = [tuple(t.shape) for t in flatten(spec)]
        return shapes[0] if len(shapes) == 1 else shapes

    @classmethod
    def _infers_by_calling(cls):
        """Whether shapes come from running ``call``: it is overridden and compute_output_shape is not."""
        return cls.compute_output_shape is Layer.compute_output_shape and cls.call is not Layer.call

    def compute_output_spec(self, *args, **kwargs):
        """The output KerasTensor(s) of calling the layer on ``args`` (KerasTensors), without data: what
        Keras's ``compute_output_spec`` gives."""
        return self._call_spec(args, kwargs)

    def _call_spec(self, args, kwargs):
        """The output KerasTensors of ``call(*args, **kwargs)`` run on placeholders, or an error naming
        this layer and the cause."""

        def run(*a, **k):
            if self._takes_training() and "training" not in k:
                k["training"] = False
            return self.call(*a, **k)

        if self._takes_mask() and "mask" not in kwargs and len(args) == 1 and isinstance(args[0], KerasTensor) \
                and _has_symbolic_mask(args[0]):
            # The input will carry a mask when the model runs: call gets one (all steps valid) here too.
            kwargs = {**kwargs, "mask": KerasTensor(args[0].shape[:-1], dtype="bool")}

        token = _IN_CALL.set(True)
        try:
            spec = compute_output_spec(run, args, kwargs)
        except Exception as e:
            received = ", ".join(_fmt(shape_of(a)) if is_symbolic(a) else repr(a) for a in args)
            msg = (f"Layer {self.name!r} ({type(self).__name__}) failed when called on inputs of shape "
                   f"{received}: {type(e).__name__}: {e}. Its output shape is found by running "
                   f"{type(self).__name__}.call() on placeholder tensors; fix call(), or write "
                   f"{type(self).__name__}.compute_output_shape().")
            try:
                err = type(e)(msg)
            except Exception:
                err = RuntimeError(msg)
            raise err from e
        finally:
            _IN_CALL.reset(token)
            self._clear_losses()  # placeholder loss terms are not the model's
        for t in flatten(spec):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Layer {self.name!r} ({type(self).__name__}): call() returned {t!r}, "
                                "which is not a tensor.")
        return spec

    def compute_output_dtype(self, input_dtype):
        return self.compute_dtype

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output: passed through when the layer supports masking."""
        return mask if self.supports_masking else None

    def output_carries_mask(self, tensor):
        """Whether ``tensor``, a symbolic output of this layer, will carry a mask when the model runs
        (``KerasTensor._keras_mask`` asks its layer)."""
        return _has_symbolic_mask(tensor)

    @property
    def produces_mask(self):
        """Whether this layer starts a mask (an Embedding with mask_zero, a Masking layer)."""
        # Read on every forward pass: the instance's own attribute first, since a missing one costs an
        # exception inside nn.Module.__getattr__.
        value = self.__dict__.get("mask_zero")
        if value is None and hasattr(type(self), "mask_zero"):
            value = getattr(self, "mask_zero", False)
        return bool(value)

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        self._activity_regularizer = regularizers.get(value)

    def _run(self, x, training, mask, penalties):
        """Call inside a model on the slow path: pass the mask, add the activity penalty, return
        (output, output mask). The fast path calls ``call`` directly."""
        kwargs = {}
        if self._takes_training():
            kwargs["training"] = training
        if mask is not None and self._takes_mask():
            kwargs["mask"] = mask
        y = self.call(x, **kwargs)
        if self._activity_regularizer is not None:
            for out in (y if isinstance(y, (list, tuple)) else [y]):
                penalties.append(self._activity_regularizer(out) / out.shape[0])
        return y, self.compute_mask(x, mask)

    @classmethod
    def _takes_mask(cls):
        if cls.__dict__.get("_call_takes_mask_cache") is None:
            cls._call_takes_mask_cache = "mask" in inspect.signature(cls.call).parameters
        return cls._call_takes_mask_cache

    @classmethod
    def _takes_training(cls):
        if cls.__dict__.get("_call_takes_training_cache") is None:
            params = inspect.signature(cls.call).parameters
            cls._call_takes_training_cache = "training" in params
        return cls._call_takes_training_cache

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"Layer {self.name!r} was called without inputs.")
            args = (kwargs.pop("inputs"),)
        inputs = args[0]
        if is_symbolic(inputs) or is_symbolic(args[1:]) or is_symbolic(kwargs):
            return self._symbolic_call(inputs, *args[1:], **kwargs)
        if _IN_CALL.get():
            return self._eager_call(inputs, *args[1:], **kwargs)
        # The outermost call: the add_loss terms of the last forward pass go.
        if _ADD_LOSS_USED:
            self._clear_losses()
        token = _IN_CALL.set(True)
        try:
            return self._eager_call(inputs, *args[1:], **kwargs)
        finally:
            _IN_CALL.reset(token)

    def _symbolic_call(self, inputs, *args, **kwargs):
        flat = flatten([inputs, list(args), [kwargs[k] for k in sorted(kwargs)]])
        if any(isinstance(t, KerasTensor) for t in flat) and any(
                isinstance(t, (torch.Tensor, np.ndarray)) for t in flatten(inputs)):
            raise TypeError(
                f"Layer {self.name!r} was called on a mix of symbolic and concrete tensors: {inputs!r}."
            )
        tensor_kwargs = {k: v for k, v in kwargs.items() if is_symbolic(v)}
        plain_kwargs = {k: v for k, v in kwargs.items() if not is_symbolic(v)}
        several = bool(args) or bool(tensor_kwargs) or not is_symbolic(inputs)
        in_shape = shape_of(inputs) if is_symbolic(inputs) and not several else None
        if self._infers_by_calling() or several:
            # Keras's compute_output_spec: build on the first input's shape, then run call on placeholders.
            first = inputs if is_symbolic(inputs) else next(a for a in args if is_symbolic(a))
            try:
                self._maybe_build(shape_of(first))
            except (ValueError, TypeError) as e:
                msg = str(e)
                if self.name not in msg:
                    msg = (f"Layer {self.name!r} ({type(self).__name__}) cannot take an input of shape "
                           f"{_fmt(shape_of(first))}: {msg}")
                raise type(e)(msg) from None
            outputs = self._call_spec((inputs,) + args, kwargs)
            outputs = _fresh(outputs)
        else:
            try:
                self._maybe_build(in_shape)
                out_shape = self.compute_output_shape(in_shape)
            except ValueError as e:
                msg = str(e)
                if self.name not in msg:
                    msg = (f"Layer {self.name!r} ({type(self).__name__}) cannot take an input of shape "
                           f"{_fmt(in_shape)}: {msg}")
                raise ValueError(msg) from None
            in_dtype = flat[0].dtype if flat else None
            out_dtype = self.compute_output_dtype(in_dtype)
            outputs = make_outputs(out_shape, out_dtype)
        if several:
            node = Node(self, arguments={"args": (inputs,) + args, "kwargs": tensor_kwargs}, outputs=outputs,
                        call_kwargs=plain_kwargs)
            node.several_arguments = True
        else:
            Node(self, arguments=inputs, outputs=outputs, call_kwargs=plain_kwargs)
        return outputs

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        inputs = to_tensor(inputs)
        self._maybe_build(shape_of(inputs))
        if self._takes_training():
            kwargs["training"] = bool(training)
        # Keras's masks on concrete tensors: an input's _keras_mask goes to call(mask=...), and the
        # output gets the layer's compute_mask as its _keras_mask.
        previous = _mask_of(inputs)
        if previous is not None and "mask" not in kwargs and self._takes_mask():
            kwargs["mask"] = previous
        outputs = self.call(inputs, *args, **kwargs)
        if previous is not None or self._may_make_mask():
            _attach_mask(outputs, self.compute_mask(inputs, kwargs.get("mask", previous)))
        return outputs

    def _may_make_mask(self):
        return self.produces_mask or type(self).compute_mask is not Layer.compute_mask

    def forward(self, *args, **kwargs):  # so that torch hooks and nn.Module users work
        return self.call(*args, **kwargs)

    # ------------------------------------------------------------------ graph connectivity
    def _single_node(self, attr):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called and thus has no defined {attr}.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f"Layer {self.name!r} has multiple inbound nodes; {attr} is ill-defined. "
                f"Use get_{attr}_at(node_index).")
        return self._inbound_nodes[0]

    @property
    def input(self):
        node = self._single_node("input")
        return node.output_structure if node.is_input else node.arguments

    @property
    def output(self):
        return self._single_node("output").output_structure

    @property
    def input_shape(self):
        node = self._single_node("input_shape")
        return shape_of(node.output_structure if node.is_input else node.arguments)

    @property
    def output_shape(self):
        return shape_of(self._single_node("output_shape").output_structure)

    def get_input_at(self, index):
        return self._inbound_nodes[index].arguments

    def get_output_at(self, index):
        return self._inbound_nodes[index].output_structure

    # ------------------------------------------------------------------ config
    def get_config(self):
        # No batch_input_shape here: Keras 3 refuses it; a Sequential writes an InputLayer instead.
        return {"name": self.name, "trainable": self.trainable, "dtype": dtype_policy_config(self._dtype)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        node = self._inbound_nodes[0] if self._inbound_nodes else None
        if node is None or node.is_input:
            return None
        # A call on several tensors is built on the first one's shape, as Keras builds it.
        args = node.arguments["args"][0] if getattr(node, "several_arguments", False) else node.arguments
        shp = shape_of(args)
        return {"input_shape": [list(s) for s in shp] if isinstance(shp, list) else list(shp)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # nn.Module defines __setstate__ etc.; keep hashing by identity (nn.Module already does).


def saveable_key(attribute):
    """The sort key of an attribute in Keras's saving walk: private names (``_x``) after the others."""
    return f"~{attribute}" if attribute.startswith("_") else attribute


def _fmt(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return str(tuple(shape))


def make_outputs(out_shape, dtype):
    if isinstance(out_shape, list):
        return [make_outputs(s, dtype) for s in out_shape]
    if isinstance(out_shape, tuple) and out_shape and isinstance(out_shape[0], (tuple, list)):
        return [make_outputs(tuple(s), dtype) for s in out_shape]
    return KerasTensor(out_shape, dtype=dtype)


def _mask_of(x):
    """The ``_keras_mask`` of a tensor (a list of them for a list of tensors; None when there is none)."""
    if isinstance(x, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in x]
        return None if all(m is None for m in masks) else masks
    return getattr(x, "_keras_mask", None)


def _attach_mask(outputs, mask):
    if mask is None:
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for t, m in zip(outputs, masks):
            _attach_mask(t, m)
    elif isinstance(outputs, torch.Tensor):
        outputs._keras_mask = mask


def _has_symbolic_mask(tensor):
    """Whether ``tensor`` will carry a mask when the model runs: some layer upstream makes one (an
    Embedding with mask_zero, a Masking layer) and every layer after it passes it on."""
    seen = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        h = t._keras_history
        if h is None or id(t) in seen:
            continue
        seen.add(id(t))
        layer = h.operation
        if getattr(layer, "produces_mask", False):
            return True
        if layer.supports_masking or type(layer).compute_mask is not Layer.compute_mask:
            node = layer._inbound_nodes[h.node_index]
            stack.extend(t2 for t2 in node.input_tensors if isinstance(t2, KerasTensor))
    return False


def _fresh(spec):
    """The KerasTensors of an inferred spec as new tensors (no history yet), in the same structure."""
    if isinstance(spec, KerasTensor):
        return KerasTensor(spec.shape, dtype=spec.dtype)
    if isinstance(spec, (list, tuple)) and not hasattr(spec, "_fields"):
        out = [_fresh(t) for t in spec]
        return out if isinstance(spec, list) else tuple(out)
    if isinstance(spec, dict):
        return {k: _fresh(v) for k, v in spec.items()}
    return spec


def to_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(to_tensor(t) for t in x) if isinstance(x, tuple) else [to_tensor(t) for t in x]
    if isinstance(x, dict):
        return {k: to_tensor(v) for k, v in x.items()}
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    # (np.ascontiguousarray makes a 0-d array 1-d: keep a scalar's shape () as Keras does)
    return torch.from_numpy(np.ascontiguousarray(arr).reshape(arr.shape))
