"""What makes a function an op: it runs on torch tensors, and on symbolic ``KerasTensor``s it records
a node in the graph and infers the output's shape and dtype without touching data.

Shape inference runs the op itself on tensors of torch's ``meta`` device (shapes and dtypes only, no
memory), as Keras's torch backend does in ``compute_output_spec``: unknown sizes (``None``) are
filled with two different sizes and an output axis whose size changes between the two runs is
unknown. Ops that torch cannot run on ``meta`` (data-dependent ones) are run on small CPU tensors.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools

import numpy as np
import torch

from engine import backend
from engine.layers.layer import Layer
from engine.layers.node import KerasTensor, Node

# While shapes are being inferred, ops create their new tensors on this device (``meta``) so that
# ``zeros(shape)`` can meet an input there.
_DEVICE_OVERRIDE: contextvars.ContextVar = contextvars.ContextVar("ops_device", default=None)
# Sizes standing in for unknown (None) dimensions; two runs tell fixed sizes from unknown ones.
_PLACEHOLDER_SIZES = (83, 89)


def device():
    """The device on which ops create new tensors."""
    return _DEVICE_OVERRIDE.get() or backend.get_device()


def in_symbolic_scope() -> bool:
    """True while an op runs on placeholder tensors to infer an output shape."""
    return _DEVICE_OVERRIDE.get() is not None


def dtype_name(dtype) -> str:
    """``torch.float32`` -> ``"float32"``."""
    return str(dtype).replace("torch.", "")


def _walk(structure, fn):
    """Apply ``fn`` to every leaf of nested lists/tuples/dicts, keeping the structure."""
    if isinstance(structure, list):
        return [_walk(s, fn) for s in structure]
    if isinstance(structure, tuple) and not hasattr(structure, "_fields"):
        return tuple(_walk(s, fn) for s in structure)
    if isinstance(structure, dict):
        return {k: _walk(v, fn) for k, v in structure.items()}
    return fn(structure)


def _leaves(structure, out):
    if isinstance(structure, (list, tuple)):
        for s in structure:
            _leaves(s, out)
    elif isinstance(structure, dict):
        for v in structure.values():
            _leaves(v, out)
    else:
        out.append(structure)
    return out


def any_symbolic(*structures) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in _leaves(structures, []))


def _placeholder(shape, dtype, fill, dev, varied):
    shape = tuple(fill if d is None else d for d in shape)
    tdt = backend.torch_dtype(dtype)
    if dev.type == "meta":
        return torch.empty(shape, dtype=tdt, device=dev)
    if not varied:
        return torch.ones(shape, dtype=tdt)  # a safe value for counts, lengths and positive-only ops
    # Different data in the second run (0, 1, 2, 3, 4, 0, ...: zeros, repeats, several values), so that
    # data-dependent sizes (nonzero, unique, bincount) differ from the all-ones run and show as unknown.
    pattern = torch.arange(int(np.prod(shape)) if shape else 1).reshape(shape) % 5
    return (pattern % 2 == 0) if tdt == torch.bool else pattern.to(tdt)


def _run_on_placeholders(fn, args, kwargs, fill, dev, shapes=None, varied=False):
    it = iter(shapes) if shapes is not None else None

    def sub(leaf):
        if isinstance(leaf, KerasTensor):
            shape = next(it) if it is not None else leaf.shape
            return _placeholder(shape, leaf.dtype, fill, dev, varied)
        return leaf

    token = _DEVICE_OVERRIDE.set(dev)
    try:
        with torch.no_grad():
            return fn(*_walk(args, sub), **_walk(kwargs, sub))
    finally:
        _DEVICE_OVERRIDE.reset(token)


def _merge_specs(a, b):
    """Two results of the same op on different placeholder sizes -> KerasTensors (None where they differ)."""
    if isinstance(a, torch.Tensor):
        if a.ndim != b.ndim:
            return KerasTensor((None,) * a.ndim, dtype=dtype_name(a.dtype))
        shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return KerasTensor(shape, dtype=dtype_name(a.dtype))
    if isinstance(a, (list, tuple)) and not hasattr(a, "_fields"):
        out = [_merge_specs(x, y) for x, y in zip(a, b)]
        return out if isinstance(a, list) else tuple(out)
    if isinstance(a, tuple):  # a namedtuple
        return type(a)(*[_merge_specs(x, y) for x, y in zip(a, b)])
    if isinstance(a, dict):
        return {k: _merge_specs(a[k], b[k]) for k in a}
    return a


# True while compute_output_spec runs a function on placeholders: engine.random's SeedGenerators then
# leave their state as it was (finding a shape is not a draw).
SHAPES_ONLY = contextvars.ContextVar("engine_shapes_only", default=False)


def compute_output_spec(fn, args, kwargs, shapes=None):
    """The output of ``fn(*args, **kwargs)`` as KerasTensors (shape and dtype), without real data.

    ``shapes`` optionally overrides the shapes of the KerasTensors found in the arguments, in order.
    """
    token = SHAPES_ONLY.set(True)
    try:
        return _compute_output_spec(fn, args, kwargs, shapes)
    finally:
        SHAPES_ONLY.reset(token)


def _compute_output_spec(fn, args, kwargs, shapes):
    results = []
    errors = []
    if shapes is not None:
        unknown = any(d is None for shape in shapes for d in (shape if isinstance(shape, (tuple, list)) else ()))
    else:
        unknown = any(d is None for t in _leaves((args, kwargs), []) if isinstance(t, KerasTensor) for d in t.shape)
    fills = _PLACEHOLDER_SIZES if unknown else _PLACEHOLDER_SIZES[:1]  # all sizes known: one run is enough
    # Ops whose output size depends on the data run on data: torch's meta kernels give an upper bound.
    devices = ("cpu",) if getattr(fn, "data_dependent", False) else ("meta", "cpu")
    for dev in map(torch.device, devices):
        try:
            if dev.type == "meta":
                results = [_run_on_placeholders(fn, args, kwargs, fill, dev, shapes) for fill in fills]
            else:  # on data, always two runs: ones, then other values (and sizes, if some are unknown)
                results = [_run_on_placeholders(fn, args, kwargs, fills[0], dev, shapes),
                           _run_on_placeholders(fn, args, kwargs, fills[-1], dev, shapes, varied=True)]
            break
        except (NotImplementedError, RuntimeError) as e:  # no meta kernel, or a data-dependent shape
            errors.append(e)
            results = []
    if not results:
        raise errors[-1]
    return _merge_specs(results[0], results[-1])


class OpLayer(Layer):
    """An op called on symbolic tensors inside a functional model: one node of the graph.

    It holds the op and its non-tensor arguments; ``call`` receives the tensors that stood where the
    KerasTensors were and runs the op on them.
    """

    def __init__(self, fn, args, kwargs, name=None):
        super().__init__(name=name or backend.unique_name(fn.__name__))
        self.fn, self.op_args, self.op_kwargs = fn, args, kwargs
        self.built = True

    def _fill(self, tensors):
        it = iter(tensors)

        def sub(leaf):
            return next(it) if isinstance(leaf, KerasTensor) else leaf

        return _walk(self.op_args, sub), _walk(self.op_kwargs, sub)

    def call(self, inputs):
        args, kwargs = self._fill(inputs)
        return self.fn(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        spec = compute_output_spec(self.fn, self.op_args, self.op_kwargs, shapes=input_shape)
        shapes = [t.shape for t in _leaves(spec, []) if isinstance(t, KerasTensor)]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_config(self):
        raise NotImplementedError(
            f"{self.name!r} is the op engine.ops.{self.fn.__name__} called on a symbolic tensor; ops in a "
            "functional model cannot be saved to a config. Wrap the computation in a Layer subclass.")


_OP_CLASSES: dict = {}


def _op_class(fn):
    """One OpLayer subclass per op, named as Keras names its operation classes (``relu`` -> ``Relu``),
    so that a model summary shows the same types as Keras's."""
    name = "".join(part.capitalize() for part in fn.__name__.strip("_").split("_")) or "Op"
    cls = _OP_CLASSES.get(name)
    if cls is None:
        cls = _OP_CLASSES[name] = type(name, (OpLayer,), {"__module__": __name__})
    return cls


def symbolic_call(fn, args, kwargs):
    """Run ``fn`` on KerasTensors: infer the output spec and add the op to the graph."""
    spec = compute_output_spec(fn, args, kwargs)
    inputs = [t for t in _leaves((args, kwargs), []) if isinstance(t, KerasTensor)]
    outputs = [t for t in _leaves(spec, []) if isinstance(t, KerasTensor)]
    if outputs:
        Node(_op_class(fn)(fn, args, kwargs), arguments=inputs, outputs=outputs)
    return spec


def data_dependent(fn):
    """Mark an op whose output size depends on the values (``nonzero``): its shape is inferred on data."""
    fn.data_dependent = True
    return fn


def keras_op(fn):
    """Make ``fn`` (written for torch tensors) also accept symbolic KerasTensors."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if any_symbolic(args, kwargs):
            return symbolic_call(fn, args, kwargs)
        return fn(*args, **kwargs)

    op.__wrapped_op__ = fn
    return op


@contextlib.contextmanager
def device_scope(dev):
    token = _DEVICE_OVERRIDE.set(torch.device(dev))
    try:
        yield
    finally:
        _DEVICE_OVERRIDE.reset(token)


# ---------------------------------------------------------------------------------------- dtypes
# Keras's promotion lattice (JAX's): each type points to the types just above it. "int"/"float" are
# the weak types of Python scalars.
_LATTICE = {
    "bool": ["int"], "int": ["uint8", "int8", "complex64"], "uint8": ["int16", "uint16"],
    "uint16": ["int32", "uint32"], "uint32": ["int64", "uint64"], "uint64": ["float"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"], "complex64": ["complex128"],
    "complex128": [],
}


def _upper_bounds():
    out = {}
    for node in _LATTICE:
        seen, stack = set(), [node]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(_LATTICE[n])
        out[node] = seen
    return out


_UB = _upper_bounds()
_TO_32 = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


def standardize_dtype(dtype) -> str:
    if dtype is None:
        return backend.floatx()
    if dtype is int:
        return "int32"
    if dtype is float:
        return "float32"
    if dtype is bool:
        return "bool"
    if dtype is complex:
        return "complex64"
    if isinstance(dtype, torch.dtype):
        return dtype_name(dtype)
    if hasattr(dtype, "name") and not isinstance(dtype, str) and isinstance(getattr(dtype, "name"), str):
        dtype = dtype.name  # numpy dtypes and dtype policies
    dtype = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    return {"float": "float32", "int": "int32", "double": "float64", "half": "float16"}.get(dtype, dtype)


def _lub(nodes):
    nodes = set(nodes)
    common = set.intersection(*[_UB[n] for n in nodes])
    least = (common & nodes) or {c for c in common if common <= _UB[c]}
    if len(least) != 1:
        raise ValueError(f"Input dtypes {sorted(nodes)} have no implicit promotion path. Cast explicitly.")
    return least.pop()


def _weak(dtype):
    if dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return "float" if kind == "float" else kind if kind != "complex" else "complex64"
    return dtype


def result_type(*dtypes) -> str:
    """Keras's ``backend.result_type``: Python ``int``/``float`` are weak; 64-bit results become 32-bit."""
    if not dtypes:
        return backend.floatx()
    weak = [d is int or d is float for d in dtypes]
    names = [standardize_dtype(d) for d in dtypes]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _lub(names), True
    else:
        out = _lub([_weak(n) if w else n for n, w in zip(names, weak)])
        out_weak = out in ("int", "float")
    out_weak = out_weak and out != "bool"
    if out_weak or out in ("int", "float"):
        precision = backend.floatx()[-2:]
        out = "bool" if out == "bool" else (f"int{precision}" if out.startswith("i")
                                            else f"uint{precision}" if out.startswith("u") else f"float{precision}")
    return _TO_32.get(out, out)
