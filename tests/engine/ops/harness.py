"""One generic op harness: ``engine.ops.<name>`` and ``keras.ops.<name>`` get the same inputs; the
outputs must have the same structure, shapes, dtypes and values. The same op called on symbolic
``KerasTensor``s must report the real output's shapes and dtypes without running on data.

A case is ``Case("add", A(2, 3), A(3))``: ``A(*shape, dtype=..., kind=...)`` stands for an array
drawn from a seeded generator (the same array for both libraries, passed as a torch tensor); other
arguments are passed as given. ``name`` may be dotted (``"linalg.qr"``, ``"image.resize"``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine.ops as E
from engine.layers.node import KerasTensor


class A:
    """An array argument: ``kind`` picks the values (normal, positive, unit, int, bool, spd, probs, onehot)."""

    def __init__(self, *shape, dtype="float32", kind=None, low=0, high=5, tensor=True):
        self.shape, self.dtype, self.low, self.high, self.tensor = shape, dtype, low, high, tensor
        self.kind = kind or ("bool" if dtype == "bool" else "int" if "int" in dtype else
                             "complex" if "complex" in dtype else "normal")

    def make(self, rng):
        s = self.shape
        if self.kind == "normal":
            v = rng.standard_normal(s)
        elif self.kind == "positive":
            v = rng.uniform(0.5, 2.0, s)
        elif self.kind == "unit":
            v = rng.uniform(-0.9, 0.9, s)
        elif self.kind == "int":
            v = rng.integers(self.low, self.high, s)
        elif self.kind == "bool":
            v = rng.random(s) > 0.5
        elif self.kind == "probs":
            v = rng.uniform(0.05, 1.0, s)
            v = v / v.sum(-1, keepdims=True)
        elif self.kind == "spd":  # symmetric positive definite matrices
            m = rng.standard_normal(s)
            v = m @ np.swapaxes(m, -1, -2) + s[-1] * np.eye(s[-1])
        elif self.kind == "fraction":
            v = rng.uniform(0.0, 1.0, s)
        elif self.kind == "complex":
            v = rng.standard_normal(s) + 1j * rng.standard_normal(s)
        elif self.kind == "sorted":
            v = np.sort(rng.standard_normal(s), axis=-1)
        elif self.kind == "nan":
            v = rng.standard_normal(s)
            v.reshape(-1)[::3] = np.nan
        elif self.kind == "triangular":
            v = np.tril(rng.standard_normal(s)) + 3 * np.eye(s[-1])
        else:
            raise ValueError(self.kind)
        return np.asarray(v).astype(self.dtype)


class Case:
    def __init__(self, name, *args, id=None, atol=1e-5, rtol=1e-5, symbolic=True, batch_none=False,
                 compare=None, keras_may_fail=False, **kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs
        self.id = id or name
        self.atol, self.rtol = atol, rtol
        self.symbolic = symbolic        # also check the op's output spec on KerasTensors
        self.batch_none = batch_none    # ... and with the leading (batch) axis unknown
        self.compare = compare          # optional fn(output) -> comparable value (e.g. for partitions)
        self.keras_may_fail = keras_may_fail  # skip (not fail) when Keras refuses these inputs

    def __repr__(self):
        return self.id


def resolve(module, name):
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _walk(s, fn):
    if isinstance(s, list):
        return [_walk(v, fn) for v in s]
    if isinstance(s, tuple):
        return tuple(_walk(v, fn) for v in s)
    if isinstance(s, dict):
        return {k: _walk(v, fn) for k, v in s.items()}
    return fn(s)


class _Drawn:
    """An array drawn for an ``A``: marks which arguments are the case's tensors."""

    def __init__(self, spec, array):
        self.spec, self.array = spec, array


def _materialize(case, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []

    def make(v):
        if isinstance(v, A):
            d = _Drawn(v, v.make(rng))
            arrays.append((v, d.array))
            return d
        return v

    args = _walk(case.args, make)
    kwargs = _walk(case.kwargs, make)
    return args, kwargs, arrays


def _as_torch(s, specs=None):
    def conv(v):
        if isinstance(v, _Drawn):
            if not v.spec.tensor:
                return v.array
            if v.spec.dtype == "bfloat16":  # NumPy's bfloat16 (ml_dtypes) does not convert directly
                return torch.tensor(v.array.astype("float32")).to(torch.bfloat16)
            return torch.tensor(v.array)
        return v

    return _walk(s, conv)


def _leaves(s):
    if isinstance(s, (list, tuple)):
        out = []
        for v in s:
            out.extend(_leaves(v))
        return out
    return [s]


def _to_numpy(v):
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu()
        if v.dtype == torch.bfloat16:
            v = v.float()
        return v.numpy()
    if hasattr(v, "value") and isinstance(getattr(v, "value"), torch.Tensor):
        return v.value.detach().cpu().numpy()
    return np.asarray(v)


def _dtype_of(v):
    if isinstance(v, torch.Tensor):
        return str(v.dtype).replace("torch.", "")
    return type(v).__name__


def check_against_keras(case, keras):
    """Run ``case`` through both libraries and compare; returns the engine output."""
    args, kwargs, arrays = _materialize(case)
    specs = [s for s, _ in arrays]
    e_fn, k_fn = resolve(E, case.name), resolve(keras.ops, case.name)
    try:
        k_out = k_fn(*_as_torch(args, specs), **_as_torch(kwargs, specs))
    except Exception as e:  # any refusal by Keras
        if not case.keras_may_fail:
            raise
        pytest.skip(f"keras.ops refuses {case}: {type(e).__name__}")
    e_out = e_fn(*_as_torch(args, specs), **_as_torch(kwargs, specs))
    raw = e_out
    if case.compare is not None:
        e_out, k_out = case.compare(e_out), case.compare(k_out)
    e_leaves, k_leaves = _leaves(e_out), _leaves(k_out)
    assert len(e_leaves) == len(k_leaves), f"{case}: engine gives {len(e_leaves)} outputs, keras {len(k_leaves)}"
    assert type(e_out) in (list, tuple) or not isinstance(k_out, (list, tuple)), (
        f"{case}: engine returns {type(e_out).__name__}, keras {type(k_out).__name__}")
    for i, (a, b) in enumerate(zip(e_leaves, k_leaves)):
        assert _dtype_of(a) == _dtype_of(b), f"{case} output {i}: dtype engine {_dtype_of(a)} vs keras {_dtype_of(b)}"
        an, bn = _to_numpy(a), _to_numpy(b)
        assert an.shape == bn.shape, f"{case} output {i}: shape engine {an.shape} vs keras {bn.shape}"
        if an.dtype.kind in "fc":
            np.testing.assert_allclose(an, bn, atol=case.atol, rtol=case.rtol, equal_nan=True,
                                       err_msg=f"{case} output {i}: values differ")
        else:
            np.testing.assert_array_equal(an, bn, err_msg=f"{case} output {i}: values differ")
    return raw


def check_symbolic(case, real_output, batch_none=False):
    """The op on KerasTensors must give the shapes and dtypes of ``real_output`` (None where unknown)."""
    args, kwargs, arrays = _materialize(case)
    if not any(s.tensor for s, _ in arrays):
        return  # nothing symbolic to pass (creation ops)
    first = []

    def symbolic(v):
        if isinstance(v, _Drawn):
            if not v.spec.tensor:
                return v.array
            shape = tuple(v.array.shape)
            if not first:
                first.append(shape[0] if shape else None)
            # The leading axis of the first array becomes unknown, and of every array that shares its size
            # (a batch axis shared by several inputs).
            if batch_none and shape and shape[0] == first[0]:
                shape = (None,) + shape[1:]
            return KerasTensor(shape, dtype=str(v.array.dtype))
        return v

    s_args, s_kwargs = _walk(args, symbolic), _walk(kwargs, symbolic)
    out = resolve(E, case.name)(*s_args, **s_kwargs)
    out_leaves = [v for v in _leaves(out)]
    real_leaves = _leaves(real_output)
    assert len(out_leaves) == len(real_leaves), (
        f"{case}: symbolic gives {len(out_leaves)} outputs, real {len(real_leaves)}")
    for i, (s, r) in enumerate(zip(out_leaves, real_leaves)):
        if not isinstance(r, torch.Tensor):
            continue
        assert isinstance(s, KerasTensor), f"{case} output {i}: symbolic call returned {type(s).__name__}"
        assert s.dtype == _dtype_of(r), f"{case} output {i}: symbolic dtype {s.dtype} vs real {_dtype_of(r)}"
        assert len(s.shape) == r.ndim, f"{case} output {i}: symbolic shape {s.shape} vs real {tuple(r.shape)}"
        for d_s, d_r in zip(s.shape, r.shape):
            if batch_none:
                assert d_s is None or d_s == d_r, f"{case} output {i}: symbolic {s.shape} vs real {tuple(r.shape)}"
            else:
                assert d_s == d_r, f"{case} output {i}: symbolic shape {s.shape} vs real {tuple(r.shape)}"
