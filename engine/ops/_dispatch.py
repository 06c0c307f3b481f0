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
from engine.backend import result_type, standardize_dtype  # noqa: F401 - re-exported: Keras's dtype rules live in the backend
from engine.keras_tensor import KerasTensor

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


def map_leaves(structure, fn):
    """Apply ``fn`` to every leaf of nested lists/tuples/dicts, keeping the structure."""
    if isinstance(structure, list):
        return [map_leaves(s, fn) for s in structure]
    if isinstance(structure, tuple) and not hasattr(structure, "_fields"):
        return tuple(map_leaves(s, fn) for s in structure)
    if isinstance(structure, dict):
        return {k: map_leaves(v, fn) for k, v in structure.items()}
    return fn(structure)


def collect_leaves(structure, out):
    """Append every leaf of nested lists/tuples/dicts to ``out`` (in order) and return ``out``."""
    if isinstance(structure, (list, tuple)):
        for s in structure:
            collect_leaves(s, out)
    elif isinstance(structure, dict):
        for v in structure.values():
            collect_leaves(v, out)
    else:
        out.append(structure)
    return out


def any_symbolic(*structures) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in collect_leaves(structures, []))


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
            return fn(*map_leaves(args, sub), **map_leaves(kwargs, sub))
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
        unknown = any(d is None for t in collect_leaves((args, kwargs), []) if isinstance(t, KerasTensor) for d in t.shape)
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


# How an op called on KerasTensors becomes a node of the functional graph: a Layer that runs the op
# (``engine.layers.op_layer.OpLayer``). The layers live above the ops (as Keras's Layer subclasses the
# ops' Operation), so engine.layers registers the class when it loads; engine.ops never imports it.
_OP_LAYER = []


def register_op_layer(cls):
    """Called by ``engine.layers.op_layer``: ``cls.record(fn, args, kwargs, inputs, outputs)`` adds an op
    call to the graph."""
    _OP_LAYER[:] = [cls]


def __getattr__(name):
    if name == "OpLayer" and _OP_LAYER:  # its old home: ``from engine.ops._dispatch import OpLayer`` works
        return _OP_LAYER[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def symbolic_call(fn, args, kwargs):
    """Run ``fn`` on KerasTensors: infer the output spec and add the op to the graph."""
    spec = compute_output_spec(fn, args, kwargs)
    inputs = [t for t in collect_leaves((args, kwargs), []) if isinstance(t, KerasTensor)]
    outputs = [t for t in collect_leaves(spec, []) if isinstance(t, KerasTensor)]
    if outputs:
        if not _OP_LAYER:
            raise RuntimeError("engine.layers has not loaded: an op on KerasTensors needs its OpLayer "
                               "(import engine first).")
        _OP_LAYER[0].record(fn, args, kwargs, inputs, outputs)
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
