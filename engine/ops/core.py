"""Core ops (``keras.ops`` core): conversion, casting, shapes, control flow, scatter and slice."""
from __future__ import annotations

import builtins

import numpy as np
import torch

from engine import backend
from engine.layers.node import KerasTensor
from engine.ops._dispatch import (compute_output_spec, device, dtype_name, in_symbolic_scope,
                                  keras_op, result_type, standardize_dtype)


def _torch_dtype(dtype):
    return backend.torch_dtype(standardize_dtype(dtype))


def _value(x):
    """A Variable's tensor (anything with ``.value`` that is a tensor), else ``x``."""
    v = getattr(x, "value", None)
    return v if isinstance(v, torch.Tensor) and not isinstance(x, torch.Tensor) else x


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A torch tensor from a tensor, array, Python scalar or (nested) list, as Keras's torch backend:
    Python ints become int32 (int64 when too large), floats floatx, NumPy arrays keep their dtype."""
    if sparse:
        raise ValueError("sparse=True is not supported by the engine (torch). Received: sparse=True")
    if ragged:
        raise ValueError("ragged=True is not supported by the engine (torch). Received: ragged=True")
    if isinstance(x, KerasTensor):
        return x if dtype is None else cast(x, dtype)
    x = _value(x)
    dev = device()
    if isinstance(x, torch.Tensor):
        if x.device != dev and not (dev.type == "meta" or x.device.type == "meta"):
            x = x.to(dev)
        elif dev.type == "meta" and x.device.type != "meta":
            x = x.to(dev)
        return x if dtype is None else x.to(_torch_dtype(dtype))
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        if dtype is not None:
            dt = _torch_dtype(dtype)
        elif isinstance(x, bool):
            dt = torch.bool
        elif isinstance(x, int):
            dt = torch.int64 if x < -(2**31) or x >= 2**31 else torch.int32
        elif isinstance(x, float):
            dt = backend.torch_dtype(backend.floatx())
        else:
            dt = torch.complex64
        return torch.as_tensor(x, dtype=dt, device=dev)
    if isinstance(x, (list, tuple)):
        if x and builtins.any(isinstance(t, torch.Tensor) or hasattr(_value(t), "dtype") and
                              isinstance(_value(t), torch.Tensor) for t in x):
            return torch.stack([convert_to_tensor(t, dtype) for t in x])
        if dtype is None:
            leaves = np.asarray(x, dtype=object).ravel().tolist() if len(x) else []
            dtype = result_type(*[getattr(v, "dtype", type(v)) for v in leaves])
        arr = np.array(x)
    else:
        arr = np.array(x)
    if arr.dtype == np.uint32:
        arr = arr.astype(np.int64)
    if arr.dtype.kind in ("U", "S", "O"):
        raise ValueError(f"Cannot convert {x!r} (dtype {arr.dtype}) to a tensor.")
    dtype = dtype or arr.dtype.name
    return torch.as_tensor(arr, dtype=_torch_dtype(dtype), device=dev)


def convert_to_numpy(x):
    """A NumPy array from a tensor (detached, on the CPU), a variable or a nested structure."""
    if isinstance(x, KerasTensor):
        raise ValueError("A symbolic KerasTensor cannot be converted to NumPy: build a Model and call predict.")
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(t) for t in x]) if x and builtins.all(
            isinstance(_value(t), torch.Tensor) for t in x) else np.array(x)
    x = _value(x)
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        if x.dtype == torch.bfloat16:
            return np.array(x.float())
        return np.array(x)
    return np.array(x)


def is_tensor(x) -> bool:
    """Whether ``x`` is a native tensor (a torch tensor)."""
    return isinstance(x, torch.Tensor)


def shape(x):
    """The shape as a tuple (``None`` for unknown sizes of a symbolic tensor)."""
    if isinstance(x, KerasTensor):
        return x.shape
    return tuple(_value(x).shape) if hasattr(_value(x), "shape") else tuple(np.shape(x))


def dtype(x) -> str:
    """The dtype of ``x`` as a string (``"float32"``)."""
    if isinstance(x, KerasTensor):
        return x.dtype
    x = _value(x)
    if isinstance(x, torch.Tensor):
        return dtype_name(x.dtype)
    return standardize_dtype(getattr(x, "dtype", None) or convert_to_tensor(x).dtype)


@keras_op
def cast(x, dtype):
    """Cast ``x`` to ``dtype`` (wrapping on overflow, as the backend does)."""
    dt = _torch_dtype(dtype)
    x = _value(x)
    if isinstance(x, torch.Tensor):
        return x if x.dtype == dt else x.to(dt)
    return convert_to_tensor(x, dtype)


def _dtype_range(name):
    if name == "bool":
        return 0, 1
    if "int" in name:
        info = torch.iinfo(backend.torch_dtype(name))
    else:
        info = torch.finfo(backend.torch_dtype(name))
    return info.min, info.max


@keras_op
def saturate_cast(x, dtype):
    """Cast with the values first clipped to what ``dtype`` can hold."""
    x = convert_to_tensor(x)
    dtype = standardize_dtype(dtype)
    in_dtype = dtype_name(x.dtype)
    in_min, in_max = _dtype_range(in_dtype)
    out_min, out_max = _dtype_range(dtype)
    lo, hi = builtins.max(in_min, out_min), builtins.min(in_max, out_max)
    if "float" in in_dtype and "int" in dtype:
        # The bounds themselves must be representable in the float type, else they round out of range.
        lo_t = torch.tensor(lo, dtype=x.dtype)
        hi_t = torch.tensor(hi, dtype=x.dtype)
        if float(hi_t) > hi:
            hi_t = torch.nextafter(hi_t, torch.tensor(0, dtype=x.dtype))
        if float(lo_t) < lo:
            lo_t = torch.nextafter(lo_t, torch.tensor(0, dtype=x.dtype))
        lo, hi = lo_t.item(), hi_t.item()
    if in_dtype != "bool":
        x = torch.clamp(x, lo, hi)
    return cast(x, dtype)


@keras_op
def stop_gradient(variable):
    """The value of ``variable`` with no gradient flowing back through it."""
    return convert_to_tensor(variable).detach()


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (both branches are traced when ``pred`` is symbolic)."""
    if isinstance(pred, KerasTensor) or in_symbolic_scope():
        true_spec = true_fn()
        return true_spec
    if isinstance(pred, torch.Tensor):
        pred = bool(pred.item())
    return true_fn() if pred else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clamped to the valid range."""
    index = int(convert_to_tensor(index, "int32").item()) if not isinstance(index, int) else index
    index = builtins.min(builtins.max(index, 0), len(branches) - 1)
    return branches[index](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``)."""
    is_seq = isinstance(loop_vars, (list, tuple))
    loop_vars = tuple(loop_vars) if is_seq else (loop_vars,)
    loop_vars = tuple(_map_structure(convert_to_tensor, v) for v in loop_vars)
    i = 0
    while (maximum_iterations is None or i < maximum_iterations) and bool(cond(*loop_vars)):
        loop_vars = body(*loop_vars)
        loop_vars = tuple(loop_vars) if isinstance(loop_vars, (list, tuple)) else (loop_vars,)
        i += 1
    return loop_vars if is_seq else loop_vars[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _map_structure(fn, s):
    if isinstance(s, (list, tuple)):
        return type(s)(_map_structure(fn, x) for x in s)
    if isinstance(s, dict):
        return {k: _map_structure(fn, v) for k, v in s.items()}
    return fn(s)


def _flatten(s):
    if isinstance(s, (list, tuple)):
        return [y for x in s for y in _flatten(x)]
    if isinstance(s, dict):
        return [y for k in sorted(s) for y in _flatten(s[k])]
    return [s]


def _pack(structure, flat):
    it = iter(flat)

    def rec(s):
        if isinstance(s, (list, tuple)):
            return type(s)(rec(x) for x in s)
        if isinstance(s, dict):
            return {k: rec(s[k]) for k in sorted(s)}
        return next(it)

    return rec(structure)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``jax.lax.scan``: ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns
    ``(final_carry, stacked_ys)``."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat = [convert_to_tensor(x) for x in _flatten(xs)] if xs is not None else []
    n = int(length) if length is not None else xs_flat[0].shape[0]
    carry = _map_structure(convert_to_tensor, init)
    ys = []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = _pack(xs, [t[i] for t in xs_flat]) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or builtins.all(y is None for y in _flatten(ys[0])):
        return carry, None
    stacked = [torch.stack([convert_to_tensor(v) for v in col]) for col in zip(*[_flatten(y) for y in ys])]
    return carry, _pack(ys[0], stacked)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along the leading axis, results stacked."""
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with an associative ``f``: ``out[i] = f(out[i-1], elems[i])`` along ``axis``."""
    flat = [convert_to_tensor(e) for e in _flatten(elems)]
    n = flat[0].shape[axis]
    slices = [[t.select(axis, i) for t in flat] for i in range(n)]
    if reverse:
        slices.reverse()
    out = [slices[0]]
    for s in slices[1:]:
        if reverse:
            nxt = f(_pack(elems, s), _pack(elems, out[-1]))
        else:
            nxt = f(_pack(elems, out[-1]), _pack(elems, s))
        out.append([convert_to_tensor(v) for v in _flatten(nxt)])
    if reverse:
        out.reverse()
    stacked = [torch.stack([o[k] for o in out], dim=axis) for k in range(len(flat))]
    return _pack(elems, stacked)


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements`` (``torch.vmap``)."""
    return torch.vmap(function)(elements)


@keras_op
def scatter(indices, values, shape):
    """A tensor of ``shape``, zeros except ``values`` added at ``indices`` (N-d indices on the last axis)."""
    indices = convert_to_tensor(indices).long()
    values = convert_to_tensor(values)
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    k = indices.shape[-1]
    indices = indices.reshape(-1, k)
    values = values.reshape((-1,) + tuple(shape)[k:])
    out.index_put_(tuple(indices.T), values, accumulate=True)
    return out


@keras_op
def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written (or combined by ``reduction``: add, max, min, mul) at ``indices``."""
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices).long()
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    idx = tuple(indices.T)
    out = inputs.clone()
    if reduction is None:
        out[idx] = updates
    elif reduction == "add":
        out.index_put_(idx, updates, accumulate=True)
    elif reduction in ("max", "min", "mul"):
        combine = {"max": torch.maximum, "min": torch.minimum, "mul": torch.mul}[reduction]
        for i, row in enumerate(indices):
            where = tuple(row.tolist())
            out[where] = combine(out[where], updates[i])
    else:
        raise ValueError(f"Unsupported reduction: {reduction!r}. Expected None, 'add', 'max', 'min' or 'mul'.")
    return out


@keras_op
def slice(inputs, start_indices, shape):
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``."""
    inputs = convert_to_tensor(inputs)
    starts = [int(s) for s in (start_indices.tolist() if isinstance(start_indices, torch.Tensor) else start_indices)]
    sizes = [int(s) for s in (shape.tolist() if isinstance(shape, torch.Tensor) else shape)]
    out = inputs
    for dim, (s, n) in enumerate(zip(starts, sizes)):
        out = out.narrow(dim, s, n)
    return out


@keras_op
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    starts = [int(s) for s in (start_indices.tolist() if isinstance(start_indices, torch.Tensor) else start_indices)]
    out = inputs.clone()
    region = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    out[region] = updates
    return out


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    if isinstance(x, KerasTensor):
        n = x.shape[axis]
        if n is None:
            if num is None:
                raise ValueError(f"Cannot unstack axis {axis} of unknown size {x.shape} without `num`.")
            n = num
        return [_take_slice(x, i, axis) for i in range(n)]
    return list(convert_to_tensor(x).unbind(axis))


@keras_op
def _take_slice(x, i, axis):
    return convert_to_tensor(x).select(axis, i)


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)``; ``grad_fn(*args, upstream=dy)`` gives the
    gradients of the tensor arguments (write it as ``def grad(*args, upstream=None)``, as Keras advises)."""

    def wrapper(*args, **kwargs):
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]

        class _Fn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *tensors):
                call_args = list(args)
                for i, t in zip(tensor_pos, tensors):
                    call_args[i] = t
                with torch.enable_grad():
                    out, grad_fn = f(*call_args, **kwargs)
                ctx.grad_fn = grad_fn
                ctx.inputs = tensors
                return out.detach() if isinstance(out, torch.Tensor) else out

            @staticmethod
            def backward(ctx, *upstream):
                # As Keras's torch backend: the forward inputs positionally, the output gradient by keyword.
                grads = ctx.grad_fn(*ctx.inputs, upstream=upstream[0] if len(upstream) == 1 else upstream)
                if not isinstance(grads, (list, tuple)):
                    grads = (grads,)
                return tuple(grads)

        return _Fn.apply(*[args[i] for i in tensor_pos])

    return wrapper


def compute_output_spec_of(fn, *args, **kwargs):
    """The output shape/dtype of ``fn`` on KerasTensors (``keras.ops`` callers use this for layers)."""
    return compute_output_spec(fn, args, kwargs)


__all__ = ["associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient",
           "dtype", "fori_loop", "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update",
           "shape", "slice", "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map",
           "while_loop"]
