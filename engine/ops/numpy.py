"""NumPy-like ops (``keras.ops.numpy``) on torch tensors, with the names, arguments, broadcasting and
result dtypes of Keras's torch backend (Python ints are int32, floats floatx; integer inputs of
float functions give floatx)."""
from __future__ import annotations

import builtins

import numpy as np
import torch
import torch.nn.functional as F

from engine import backend
from engine.layers.node import KerasTensor
from engine.ops._dispatch import data_dependent, device, dtype_name, keras_op, result_type, standardize_dtype
from engine.ops.core import cast, convert_to_tensor

_t = convert_to_tensor
_INT_NAMES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _dt(x) -> str:
    return dtype_name(x.dtype)


def _tdt(name):
    return backend.torch_dtype(standardize_dtype(name))


def _floatx():
    return backend.floatx()


def _is_int_or_bool(x):
    d = _dt(x)
    return d == "bool" or "int" in d


def _axes(axis):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def _empty_axis(axis):
    return isinstance(axis, (list, tuple)) and len(axis) == 0


def _canon(axis, ndim):
    return axis + ndim if axis < 0 else axis


def _to_float(x):
    """Integer and bool inputs of float functions compute in floatx (int64 in float64 where Keras does)."""
    return cast(x, _floatx()) if _is_int_or_bool(x) else x


def _typeof(v):
    return getattr(v, "dtype", type(v)) if not isinstance(v, KerasTensor) else v.dtype


def _unary(torch_fn, to_float=False, name=None):
    def fn(x):
        x = _t(x)
        if to_float:
            x = _to_float(x)
        return torch_fn(x)

    fn.__name__ = fn.__qualname__ = name or torch_fn.__name__
    return keras_op(fn)


def _binary(torch_fn, name):
    def fn(x1, x2):
        return torch_fn(_t(x1), _t(x2))

    fn.__name__ = fn.__qualname__ = name
    return keras_op(fn)


# ------------------------------------------------------------------------------ elementwise, one input
@keras_op
def absolute(x):
    x = _t(x)
    return x if _dt(x) == "bool" else torch.abs(x)


abs = absolute  # noqa: A001


@keras_op
def fabs(x):
    return torch.abs(_to_float(_t(x)))


arccos = _unary(torch.arccos, True, "arccos")
arccosh = _unary(torch.arccosh, True, "arccosh")
arcsin = _unary(torch.arcsin, True, "arcsin")
arcsinh = _unary(torch.arcsinh, True, "arcsinh")
arctan = _unary(torch.arctan, True, "arctan")
arctanh = _unary(torch.arctanh, True, "arctanh")
cos = _unary(torch.cos, True, "cos")
cosh = _unary(torch.cosh, True, "cosh")
sin = _unary(torch.sin, True, "sin")
sinh = _unary(torch.sinh, True, "sinh")
tan = _unary(torch.tan, True, "tan")
tanh = _unary(torch.tanh, True, "tanh")
exp = _unary(torch.exp, True, "exp")
exp2 = _unary(torch.exp2, True, "exp2")
expm1 = _unary(torch.expm1, True, "expm1")
log = _unary(torch.log, True, "log")
log10 = _unary(torch.log10, True, "log10")
log1p = _unary(torch.log1p, True, "log1p")
log2 = _unary(torch.log2, True, "log2")
sinc = _unary(torch.sinc, True, "sinc")
reciprocal = _unary(torch.reciprocal, True, "reciprocal")
sign = _unary(torch.sign, False, "sign")
signbit = _unary(torch.signbit, False, "signbit")
negative = _unary(torch.negative, False, "negative")
isfinite = _unary(torch.isfinite, False, "isfinite")
isinf = _unary(torch.isinf, False, "isinf")
isnan = _unary(torch.isnan, False, "isnan")
isneginf = _unary(torch.isneginf, False, "isneginf")
isposinf = _unary(torch.isposinf, False, "isposinf")
isreal = _unary(torch.isreal, False, "isreal")
logical_not = _unary(torch.logical_not, False, "logical_not")
ravel = _unary(torch.ravel, False, "ravel")
copy = _unary(torch.clone, False, "copy")
fliplr = _unary(torch.fliplr, False, "fliplr")
flipud = _unary(torch.flipud, False, "flipud")


@keras_op
def angle(x):
    return torch.angle(_to_float(_t(x)))


@keras_op
def sqrt(x):
    return torch.sqrt(_to_float(_t(x)))


def _to_float64_aware(x):
    """Integer inputs become floatx, except int64 which becomes float64 (as Keras's torch backend)."""
    return cast(x, "float64") if _dt(x) == "int64" else _to_float(x)


@keras_op
def cbrt(x):
    x = _to_float64_aware(_t(x))
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


@keras_op
def square(x):
    x = _t(x)
    return torch.square(cast(x, "int32") if _dt(x) == "bool" else x)


def _float_result(x):
    d = _dt(x)
    return _floatx() if d == "int64" else result_type(d, float)


@keras_op
def ceil(x):
    x = _t(x)
    out = _float_result(x)
    return torch.ceil(cast(x, out))


@keras_op
def floor(x):
    x = _t(x)
    return torch.floor(cast(x, _float_result(x)))


@keras_op
def trunc(x):
    x = _t(x)
    return x if _dt(x) == "bool" else torch.trunc(x)


@keras_op
def round(x, decimals=0):  # noqa: A001
    x = _t(x)
    d = _dt(x)
    if "int" in d:
        if decimals >= 0:
            return x
        f = 10 ** (-decimals)
        return cast(torch.round(cast(x, "float32") / f) * f, d)
    return torch.round(x, decimals=decimals)


@keras_op
def deg2rad(x):
    return torch.deg2rad(_to_float64_aware(_t(x)))


@keras_op
def rad2deg(x):
    return torch.rad2deg(_to_float64_aware(_t(x)))


@keras_op
def i0(x):
    x = _t(x)
    d = _dt(x)
    d = "float64" if d in ("int64", "float64") else d if d in ("bfloat16", "float16") else _floatx()
    return torch.i0(cast(x, d))


@keras_op
def conjugate(x):
    return torch.conj(_t(x)).resolve_conj()


conj = conjugate


@keras_op
def real(x):
    x = _t(x)
    return torch.real(x)


@keras_op
def imag(x):
    x = _t(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


@keras_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


@keras_op
def bitwise_invert(x):
    return torch.bitwise_not(_t(x))


bitwise_not = bitwise_invert


# ------------------------------------------------------------------------------ elementwise, two inputs
add = _binary(torch.add, "add")
multiply = _binary(torch.multiply, "multiply")
power = _binary(torch.pow, "power")
equal = _binary(torch.eq, "equal")
not_equal = _binary(torch.not_equal, "not_equal")
greater = _binary(torch.greater, "greater")
greater_equal = _binary(torch.greater_equal, "greater_equal")
less = _binary(torch.less, "less")
less_equal = _binary(torch.less_equal, "less_equal")
logical_and = _binary(torch.logical_and, "logical_and")
logical_or = _binary(torch.logical_or, "logical_or")
logical_xor = _binary(torch.logical_xor, "logical_xor")


@keras_op
def bitwise_and(x, y):
    return torch.bitwise_and(_t(x), _t(y))


@keras_op
def bitwise_or(x, y):
    return torch.bitwise_or(_t(x), _t(y))


@keras_op
def bitwise_xor(x, y):
    return torch.bitwise_xor(_t(x), _t(y))

gcd = _binary(torch.gcd, "gcd")
lcm = _binary(torch.lcm, "lcm")
kron = _binary(torch.kron, "kron")


@keras_op
def subtract(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if _dt(x1) == "bool":
        x1 = cast(x1, x2.dtype)
    if _dt(x2) == "bool":
        x2 = cast(x2, x1.dtype)
    return torch.subtract(x1, x2)


def _shift_arg(y):
    return y if isinstance(y, int) else _t(y)


@keras_op
def bitwise_left_shift(x, y):
    return torch.bitwise_left_shift(_t(x), _shift_arg(y))


@keras_op
def bitwise_right_shift(x, y):
    return torch.bitwise_right_shift(_t(x), _shift_arg(y))


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def _scalar_or_tensor(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else _t(x)


@keras_op
def divide(x1, x2):
    x1, x2 = _scalar_or_tensor(x1), _scalar_or_tensor(x2)
    if isinstance(x1, (int, float)) and isinstance(x2, (int, float)):
        x1 = _t(x1)
    return torch.divide(x1, x2)


true_divide = divide


@keras_op
def divide_no_nan(x1, x2):
    dt = result_type(_typeof(x1), _typeof(x2), float)
    x1, x2 = _t(x1, dt), _t(x2, dt)
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros((), dtype=x1.dtype, device=x1.device), x1 / safe)


@keras_op
def floor_divide(x1, x2):
    dt = result_type(_typeof(x1), _typeof(x2))
    x1, x2 = _scalar_or_tensor(x1), _scalar_or_tensor(x2)
    if isinstance(x1, (int, float)) and isinstance(x2, (int, float)):
        x1 = _t(x1)
    return cast(torch.floor_divide(x1, x2), dt)


def _promoted_pair(x1, x2):
    dt = result_type(_typeof(x1), _typeof(x2))
    return _t(x1, dt), _t(x2, dt)


@keras_op
def maximum(x1, x2):
    return torch.maximum(*_promoted_pair(x1, x2))


@keras_op
def minimum(x1, x2):
    return torch.minimum(*_promoted_pair(x1, x2))


@keras_op
def fmax(x1, x2):
    return torch.fmax(*_promoted_pair(x1, x2))


@keras_op
def fmin(x1, x2):
    return torch.fmin(*_promoted_pair(x1, x2))


@keras_op
def mod(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if result_type(x1.dtype, x2.dtype) == "bool":
        x1, x2 = cast(x1, "int32"), cast(x2, "int32")
    return torch.remainder(x1, x2)


@keras_op
def fmod(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if result_type(x1.dtype, x2.dtype) == "bool":
        x1, x2 = cast(x1, "int32"), cast(x2, "int32")
    return torch.fmod(x1, x2)


def _float_pair(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype)
    if dt in ("int8", "int16", "int32", "uint8", "uint16", "uint32"):
        dt = _floatx()
    elif dt == "int64":
        dt = "float64"
    return cast(x1, dt), cast(x2, dt)


@keras_op
def arctan2(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype, float)
    return torch.arctan2(cast(x1, dt), cast(x2, dt))


@keras_op
def hypot(x1, x2):
    return torch.hypot(*_float_pair(x1, x2))


@keras_op
def heaviside(x1, x2):
    return torch.heaviside(*_float_pair(x1, x2))


@keras_op
def logaddexp(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype, float)
    return torch.logaddexp(cast(x1, dt), cast(x2, dt))


@keras_op
def logaddexp2(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype, float)
    return torch.logaddexp2(cast(x1, dt), cast(x2, dt))


@keras_op
def ldexp(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if _dt(x2) not in _INT_NAMES:
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={_dt(x2)}")
    return cast(torch.ldexp(x1, x2), result_type(x1.dtype, x2.dtype, float))


@keras_op
def nextafter(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype, float)
    return cast(torch.nextafter(cast(x1, "float64"), cast(x2, "float64")), dt)


@keras_op
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype)
    x1, x2 = cast(x1, dt), cast(x2, dt)
    if "float" in dt:
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(x1, x2)


@keras_op
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return torch.all(isclose.__wrapped_op__(x1, x2, rtol, atol, equal_nan))


@keras_op
def isin(x1, x2, assume_unique=False, invert=False):
    x1, x2 = _t(x1), _t(x2)
    if _dt(x1) == "bool" or _dt(x2) == "bool":
        dt = "int32" if result_type(x1.dtype, x2.dtype) == "bool" else result_type(x1.dtype, x2.dtype)
        x1, x2 = cast(x1, dt), cast(x2, dt)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)


@keras_op
def clip(x, x_min, x_max):
    x = _t(x)
    if _dt(x) == "bool":
        x = cast(x, "int32")
    return torch.clip(x, min=_t(x_min), max=_t(x_max))


@keras_op
@data_dependent
def where(condition, x1=None, x2=None):
    condition = _t(condition, "bool")
    if x1 is not None and x2 is not None:
        return torch.where(condition, _t(x1), _t(x2))
    if x1 is not None or x2 is not None:
        raise ValueError("`x1` and `x2` must be given together (or neither).")
    return torch.stack(torch.where(condition), dim=0)


@keras_op
def select(condlist, choicelist, default=0):
    out = _t(default)
    for c, v in reversed(list(zip(condlist, choicelist))):
        out = torch.where(_t(c), _t(v), out)
    return out


# ------------------------------------------------------------------------------ reductions
def _red_axis(axis):
    return None if axis is None else (tuple(axis) if isinstance(axis, (list, tuple)) else axis)


@keras_op
def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x) if not isinstance(x, (list, tuple)) else stack.__wrapped_op__(x)
    if _empty_axis(axis):
        return x
    dt = _dt(x)
    if dt in ("bool", "uint8", "int8", "int16"):
        dt = "int32"
    out = torch.sum(x) if axis is None else torch.sum(x, dim=_red_axis(axis), keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, dt)


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    x = _t(x)
    if dtype is None:
        dtype = result_type(_dt(x))
        if dtype in ("bool", "int8", "int16", "uint8"):
            dtype = "int32"
    dtype = standardize_dtype(dtype)
    if axis is None:
        out = torch.prod(x, dtype=_tdt(dtype))
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = [_canon(a, x.ndim) for a in axes]
    for a in sorted(axes, reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=_tdt(dtype))
    return x


@keras_op
def mean(x, axis=None, keepdims=False):
    x = _t(x) if not isinstance(x, (list, tuple)) else stack.__wrapped_op__(x)
    if _empty_axis(axis):
        return x
    orig = _dt(x)
    compute = result_type(orig, "float32")
    result = compute if ("int" in orig or orig == "bool") else orig
    x = cast(x, compute)
    out = torch.mean(x, dim=_red_axis(axis), keepdim=keepdims) if axis is not None else torch.mean(x)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, result)


def _minmax(x, axis, keepdims, initial, torch_red, combine, what):
    x = _t(x)
    if 0 in x.shape:
        if initial is None:
            raise ValueError(f"Cannot compute the {what} of an empty tensor.")
        return torch.full((1,) * x.ndim if keepdims else (), initial, device=x.device)
    if axis is None:
        out = torch_red(x)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    elif _empty_axis(axis):
        out = x
    else:
        out = torch_red(x, dim=_red_axis(axis), keepdim=keepdims)
    if initial is not None:
        out = combine(out, torch.full(out.shape, initial, dtype=out.dtype, device=out.device))
    return out


@keras_op
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return _minmax(x, axis, keepdims, initial, torch.amax, torch.maximum, "max")


@keras_op
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return _minmax(x, axis, keepdims, initial, torch.amin, torch.minimum, "min")


@keras_op
def amax(x, axis=None, keepdims=False):
    return _minmax(x, axis, keepdims, None, torch.amax, torch.maximum, "max")


@keras_op
def amin(x, axis=None, keepdims=False):
    return _minmax(x, axis, keepdims, None, torch.amin, torch.minimum, "min")


@keras_op
def all(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if _empty_axis(axis):
        return cast(x, "bool")
    out = torch.all(x) if axis is None else torch.all(x, dim=_red_axis(axis), keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, "bool")


@keras_op
def any(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if _empty_axis(axis):
        return cast(x, "bool")
    out = torch.any(x) if axis is None else torch.any(x, dim=_red_axis(axis), keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, "bool")


@keras_op
def var(x, axis=None, keepdims=False):
    x = _t(x)
    compute = result_type(_dt(x), "float32")
    result = result_type(_dt(x), float)
    if _empty_axis(axis):
        return torch.zeros_like(x, dtype=_tdt(result))
    x = cast(x, compute)
    return cast(torch.var(x, dim=_red_axis(axis), keepdim=keepdims, correction=0), result)


@keras_op
def std(x, axis=None, keepdims=False):
    x = _t(x)
    if _is_int_or_bool(x):
        x = cast(x, "float32")
    return torch.std(x, dim=_red_axis(axis), keepdim=keepdims, unbiased=False)


@keras_op
def ptp(x, axis=None, keepdims=False):
    x = _t(x)
    if axis is None:
        out = x.max() - x.min()
        return out.reshape((1,) * x.ndim) if keepdims else out
    if _empty_axis(axis):
        return torch.zeros_like(x)
    return torch.amax(x, dim=_red_axis(axis), keepdim=keepdims) - torch.amin(x, dim=_red_axis(axis), keepdim=keepdims)


@keras_op
def argmax(x, axis=None, keepdims=False):
    x = _t(x)
    if _dt(x) == "bool":
        x = cast(x, "uint8")
    return cast(torch.argmax(x, dim=axis, keepdim=keepdims), "int32")


@keras_op
def argmin(x, axis=None, keepdims=False):
    x = _t(x)
    if _dt(x) == "bool":
        x = cast(x, "uint8")
    return cast(torch.argmin(x, dim=axis, keepdim=keepdims), "int32")


@keras_op
def count_nonzero(x, axis=None):
    x = _t(x)
    if _empty_axis(axis):
        return cast(torch.ne(x, 0), "int32")
    return cast(torch.count_nonzero(x, dim=_red_axis(axis)), "int32")


@keras_op
def average(x, axis=None, weights=None):
    x = _t(x)
    dts = [x.dtype, float]
    if weights is not None:
        weights = _t(weights)
        dts.append(weights.dtype)
    dt = result_type(*dts)
    x = cast(x, dt)
    if _empty_axis(axis):
        return x
    if weights is None:
        return torch.mean(x, dim=axis) if axis is not None else torch.mean(x)
    weights = cast(weights, dt)
    if axis is None:
        return torch.sum(x * weights) / torch.sum(weights)
    if weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    return torch.sum(x * weights, dim=axis) / torch.sum(weights, dim=axis if weights.ndim == x.ndim else -1)


def _quantile(x, q, axis, method, keepdims, torch_fn):
    x, q = _t(x), _t(q)
    compute = result_type(_dt(x), "float32")
    result = result_type(_dt(x), float)
    x = cast(x, compute)
    q = cast(q, x.dtype)
    if axis is None:
        y = x.reshape(-1)
        axes = None
    else:
        axes = [_canon(a, x.ndim) for a in ([axis] if isinstance(axis, int) else axis)]
        others = [i for i in range(x.ndim) if i not in axes]
        y = x.permute(others + axes).reshape([x.shape[i] for i in others] + [-1])
    y = torch_fn(y, q, dim=-1, interpolation=method)
    if keepdims:
        if axes is None:
            for _ in range(x.ndim):
                y = y.unsqueeze(-1)
        else:
            for i in sorted(axes):
                y = y.unsqueeze(i + 1 if q.ndim > 0 else i)
    return cast(y, result)


@keras_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, torch.quantile)


@keras_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    q = _t(q, _floatx()) / 100.0
    return _quantile(x, q, axis, method, keepdims, torch.quantile)


@keras_op
def median(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, torch.quantile)


@keras_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, torch.nanquantile)


@keras_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    q = _t(q, _floatx()) / 100.0
    return _quantile(x, q, axis, method, keepdims, torch.nanquantile)


@keras_op
def nanmedian(x, axis=None, keepdims=False):
    if _empty_axis(axis):
        return _t(x)
    return _quantile(x, 0.5, axis, "linear", keepdims, torch.nanquantile)


@keras_op
def nansum(x, axis=None, keepdims=False):
    x = _t(x)
    dt = _dt(x)
    if dt in ("bool", "uint8", "int8", "int16"):
        dt = "int32"
    if _empty_axis(axis):
        return cast(torch.nan_to_num(x, nan=0), dt)
    return cast(torch.nansum(x, dim=_red_axis(axis), keepdim=keepdims), dt)


@keras_op
def nanprod(x, axis=None, keepdims=False):
    x = _t(x)
    if _empty_axis(axis):
        return torch.nan_to_num(x, nan=1)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype, device=x.device), x)
    return prod.__wrapped_op__(x, axis=axis, keepdims=keepdims)


@keras_op
def nanmean(x, axis=None, keepdims=False):
    x = _t(x)
    if _empty_axis(axis):
        return x
    return torch.nanmean(cast(x, result_type(_dt(x), float)), dim=_red_axis(axis), keepdim=keepdims)


@keras_op
def nanvar(x, axis=None, keepdims=False):
    x = cast(_t(x), result_type(_dt(_t(x)), float))
    if _empty_axis(axis):
        return torch.where(torch.isnan(x), x, torch.zeros((), dtype=x.dtype, device=x.device))
    valid = ~torch.isnan(x)
    m = torch.nanmean(x, dim=_red_axis(axis), keepdim=True)
    centered = torch.where(valid, x - m, torch.zeros_like(x)).square()
    return centered.sum(dim=_red_axis(axis), keepdim=keepdims) / valid.sum(dim=_red_axis(axis), keepdim=keepdims)


@keras_op
def nanstd(x, axis=None, keepdims=False):
    return torch.sqrt(nanvar.__wrapped_op__(x, axis=axis, keepdims=keepdims))


def _nan_extreme(x, axis, keepdims, fill, red):
    x = _t(x)
    if not x.is_floating_point():
        return red(x, dim=_red_axis(axis), keepdim=keepdims) if axis is not None else red(x)
    if _empty_axis(axis):
        return x
    clean = torch.where(torch.isnan(x), torch.tensor(fill, dtype=x.dtype, device=x.device), x)
    allnan = torch.isnan(x).all(dim=_red_axis(axis), keepdim=keepdims) if axis is not None else torch.isnan(x).all()
    out = red(clean, dim=_red_axis(axis), keepdim=keepdims) if axis is not None else red(clean)
    return torch.where(allnan, torch.tensor(float("nan"), dtype=x.dtype, device=x.device), out)


@keras_op
def nanmax(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, float("-inf"), torch.amax)


@keras_op
def nanmin(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, float("inf"), torch.amin)


def _nan_arg(x, axis, keepdims, fill, argfn):
    x = _t(x)
    if not x.is_floating_point():
        return argfn(x, axis=axis, keepdims=keepdims)
    clean = torch.where(torch.isnan(x), torch.tensor(fill, dtype=x.dtype, device=x.device), x)
    allnan = torch.isnan(x).all(dim=axis, keepdim=keepdims) if axis is not None else torch.isnan(x).all()
    return torch.where(allnan, torch.tensor(-1, dtype=torch.int32, device=x.device),
                       argfn(clean, axis=axis, keepdims=keepdims))


@keras_op
def nanargmax(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, float("-inf"), argmax.__wrapped_op__)


@keras_op
def nanargmin(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, float("inf"), argmin.__wrapped_op__)


def _cum(x, axis, dtype, torch_fn):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    dt = standardize_dtype(dtype) if dtype is not None else _dt(x)
    dt = result_type(dt)
    if dt == "bool":
        dt = "int32"
    return torch_fn(x, dim=axis, dtype=_tdt(dt))


@keras_op
def cumsum(x, axis=None, dtype=None):
    return _cum(x, axis, dtype, torch.cumsum)


@keras_op
def cumprod(x, axis=None, dtype=None):
    return _cum(x, axis, dtype, torch.cumprod)


@keras_op
def nancumsum(x, axis=None, dtype=None):
    return _cum(torch.nan_to_num(_t(x), nan=0.0), axis, dtype, torch.cumsum)


@keras_op
def nancumprod(x, axis=None, dtype=None):
    return _cum(torch.nan_to_num(_t(x), nan=1.0), axis, dtype, torch.cumprod)


# ------------------------------------------------------------------------------ creation
def _shape_arg(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)


@keras_op
def zeros(shape, dtype=None):
    return torch.zeros(_shape_arg(shape), dtype=_tdt(dtype or _floatx()), device=device())


@keras_op
def ones(shape, dtype=None):
    return torch.ones(_shape_arg(shape), dtype=_tdt(dtype or _floatx()), device=device())


@keras_op
def empty(shape, dtype=None):
    # Zeros rather than uninitialized memory: the same shape and dtype, and reproducible.
    return torch.zeros(_shape_arg(shape), dtype=_tdt(dtype or _floatx()), device=device())


@keras_op
def full(shape, fill_value, dtype=None):
    fill = _t(fill_value, dtype)
    shape = _shape_arg(shape)
    if fill.ndim:
        return torch.broadcast_to(fill, shape).clone()
    return torch.full(shape, fill.item() if fill.device.type != "meta" else 0, dtype=fill.dtype, device=device())


@keras_op
def zeros_like(x, dtype=None):
    x = _t(x)
    return torch.zeros_like(x, dtype=_tdt(dtype) if dtype else x.dtype)


@keras_op
def ones_like(x, dtype=None):
    x = _t(x)
    return torch.ones_like(x, dtype=_tdt(dtype) if dtype else x.dtype)


@keras_op
def empty_like(x, dtype=None):
    x = _t(x)
    return torch.zeros_like(x, dtype=_tdt(dtype) if dtype else x.dtype)


@keras_op
def full_like(x, fill_value, dtype=None):
    x = _t(x)
    return full.__wrapped_op__(tuple(x.shape), fill_value, dtype=dtype or _dt(x))


def arange(start, stop=None, step=None, dtype=None):
    if dtype is None:
        dtype = result_type(*[_typeof(v) for v in (start, stop, step) if v is not None])
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    return torch.arange(start, stop, step, dtype=_tdt(dtype), device=device())


def eye(N, M=None, k=0, dtype=None):
    dt = _tdt(dtype or _floatx())
    M = N if M is None else M
    k = k or 0
    return torch.ones((N, M), dtype=torch.float32, device=device()).tril(k).triu(k).to(dt)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    return torch.tril(torch.ones((N, M), dtype=_tdt(dtype or _floatx()), device=device()), diagonal=k)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if axis != 0:
        raise ValueError(f"linspace supports only axis=0 on torch. Received axis={axis}")
    if dtype is None:
        dtype = result_type(_typeof(start), _typeof(stop), float)
    dt = _tdt(dtype)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else float("nan")
    if hasattr(start, "__len__") or hasattr(stop, "__len__") or isinstance(start, torch.Tensor):
        s, e = _t(start, dtype), _t(stop, dtype)
        steps = torch.arange(num, dtype=dt, device=device()) / builtins.max(div, 1)
        steps = steps.reshape((-1,) + (1,) * s.ndim)
        out = s[None] + steps * (e - s)[None]
    else:
        end = stop if endpoint else stop - (stop - start) / num
        out = torch.linspace(start, end, num, dtype=dt, device=device())
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    if dtype is None:
        dtype = result_type(_typeof(start), _typeof(stop), float)
    exps = linspace(start, stop, num=num, endpoint=endpoint, dtype="float32" if dtype != "float64" else dtype,
                    axis=axis)
    return cast(torch.pow(torch.tensor(float(base), dtype=exps.dtype, device=exps.device), exps), dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    if dtype is None:
        dtype = result_type(_typeof(start), _typeof(stop), float)
    s, e = _t(start, dtype), _t(stop, dtype)
    out = logspace(torch.log10(torch.abs(s)), torch.log10(torch.abs(e)), num=num, endpoint=endpoint,
                   dtype=dtype, axis=axis)
    return out * torch.sign(s)


def array(x, dtype=None):
    return convert_to_tensor(x, dtype=dtype)


def bartlett(x):
    return torch.signal.windows.bartlett(int(x), dtype=_tdt(_floatx()), device=device())


def blackman(x):
    return torch.signal.windows.blackman(int(x), dtype=_tdt(_floatx()), device=device())


def hamming(x):
    return torch.signal.windows.hamming(int(x), dtype=_tdt(_floatx()), device=device())


def hanning(x):
    return torch.signal.windows.hann(int(x), dtype=_tdt(_floatx()), device=device())


def kaiser(x, beta):
    return torch.signal.windows.kaiser(int(x), beta=beta, dtype=_tdt(_floatx()), device=device())


# ------------------------------------------------------------------------------ shape manipulation
@keras_op
def reshape(x, newshape):
    newshape = (newshape,) if isinstance(newshape, int) else tuple(-1 if d is None else int(d) for d in newshape)
    return torch.reshape(_t(x), newshape)


@keras_op
def transpose(x, axes=None):
    x = _t(x)
    if axes is None:
        return x.permute(*reversed(range(x.ndim)))
    return x.permute(*axes)


@keras_op
def expand_dims(x, axis):
    x = _t(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    out_ndim = x.ndim + len(axes)
    for a in sorted(_canon(a, out_ndim) for a in axes):
        x = x.unsqueeze(a)
    return x


@keras_op
def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of size {x.shape[a]}: it is not 1.")
    return torch.squeeze(x, dim=tuple(axes))


@keras_op
def moveaxis(x, source, destination):
    return torch.moveaxis(_t(x), source, destination)


@keras_op
def swapaxes(x, axis1, axis2):
    return torch.swapaxes(_t(x), axis1, axis2)


@keras_op
def broadcast_to(x, shape):
    return torch.broadcast_to(_t(x), tuple(shape))


@keras_op
def flip(x, axis=None):
    x = _t(x)
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    return torch.flip(x, dims=axes)


@keras_op
def rot90(array, k=1, axes=(0, 1)):
    x = _t(array)
    if x.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. Received: array.ndim={x.ndim}")
    return torch.rot90(x, k=k, dims=tuple(_canon(a, x.ndim) for a in axes))


@keras_op
def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


@keras_op
def tile(x, repeats):
    if isinstance(repeats, torch.Tensor):
        repeats = tuple(int(r) for r in repeats.tolist())
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(_t(x), repeats)


@keras_op
@data_dependent
def repeat(x, repeats, axis=None):
    x = _t(x)
    if isinstance(repeats, (list, tuple)):
        repeats = torch.as_tensor(repeats, device=x.device)
    elif isinstance(repeats, torch.Tensor):
        repeats = repeats.to(x.device).long()
    return torch.repeat_interleave(x, repeats, dim=axis)


@keras_op
def concatenate(xs, axis=0):
    xs = [_t(x) for x in xs]
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


@keras_op
def append(x1, x2, axis=None):
    x1, x2 = _t(x1), _t(x2)
    if axis is None:
        return torch.cat((x1.reshape(-1), x2.reshape(-1)))
    return torch.cat((x1, x2), dim=axis)


@keras_op
def stack(x, axis=0):
    return torch.stack([_t(e) for e in x], dim=axis)


@keras_op
def hstack(xs):
    return torch.hstack([_t(x) for x in xs])


@keras_op
def vstack(xs):
    return torch.vstack([_t(x) for x in xs])


@keras_op
def dstack(xs):
    return torch.dstack([_t(x) for x in xs])


def _sections(indices_or_sections):
    if isinstance(indices_or_sections, int):
        return indices_or_sections
    if isinstance(indices_or_sections, torch.Tensor):
        return indices_or_sections.tolist()
    return list(indices_or_sections)


@keras_op
def split(x, indices_or_sections, axis=0):
    x = _t(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"Received indices_or_sections={indices_or_sections} and axis={axis}, but "
                             f"x.shape[{axis}]={n} is not divisible by {indices_or_sections}.")
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, _sections(indices_or_sections), dim=axis))


@keras_op
def array_split(x, indices_or_sections, axis=0):
    return list(torch.tensor_split(_t(x), _sections(indices_or_sections), dim=axis))


@keras_op
def hsplit(x, indices_or_sections):
    return list(torch.hsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def vsplit(x, indices_or_sections):
    return list(torch.vsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def dsplit(x, indices_or_sections):
    return list(torch.dsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    x = _t(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"Argument `constant_values` can only be provided when mode == 'constant'. Received: "
                         f"mode={mode}")
    pw = np.asarray(pad_width, dtype=int)
    if pw.ndim == 0:
        pw = np.full((x.ndim, 2), int(pw))
    elif pw.ndim == 1:
        pw = np.tile(pw.reshape(1, -1) if pw.size == 2 else pw.reshape(-1, 1), (x.ndim, 1 if pw.size == 2 else 2))
    flat = []
    for before, after in pw[::-1]:
        flat += [int(before), int(after)]
    if mode == "constant":
        return F.pad(x, flat, mode="constant", value=constant_values or 0)
    # torch pads only the trailing axes for reflect/replicate: move padded axes last, on a 3-d+ view.
    padded_axes = [i for i in range(x.ndim) if pw[i].any()]
    if not padded_axes:
        return x
    if mode == "symmetric":
        return _symmetric_pad(x, pw)
    tmode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}.get(mode)
    if tmode is None:
        raise ValueError(f"Unsupported pad mode: {mode!r}.")
    orig_dtype = x.dtype
    y = x.float() if x.dtype not in (torch.float32, torch.float64) else x
    rest = [i for i in range(x.ndim) if i not in padded_axes]
    perm = rest + padded_axes
    y = y.permute(perm)
    lead = y.shape[:len(rest)]
    y = y.reshape((1, -1) + tuple(y.shape[len(rest):]))
    tflat = []
    for a in reversed(padded_axes):
        tflat += [int(pw[a][0]), int(pw[a][1])]
    y = F.pad(y, tflat, mode=tmode)
    y = y.reshape(tuple(lead) + tuple(y.shape[2:]))
    inv = np.argsort(perm).tolist()
    return y.permute(inv).to(orig_dtype)


def _symmetric_pad(x, pw):
    for axis, (before, after) in enumerate(pw):
        parts = []
        if before:
            parts.append(torch.flip(x.narrow(axis, 0, int(before)), dims=(axis,)))
        parts.append(x)
        if after:
            parts.append(torch.flip(x.narrow(axis, x.shape[axis] - int(after), int(after)), dims=(axis,)))
        x = torch.cat(parts, dim=axis)
    return x


@keras_op
def diag(x, k=0):
    return torch.diag(_t(x), diagonal=k)


@keras_op
def diagflat(x, k=0):
    return torch.diagflat(_t(x), offset=k)


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


@keras_op
def trace(x, offset=0, axis1=0, axis2=1):
    x = _t(x)
    dt = _dt(x)
    if dt in ("bool", "int8", "int16", "uint8"):
        dt = "int32"
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=_tdt(dt))


@keras_op
def tril(x, k=0):
    return torch.tril(_t(x), diagonal=k)


@keras_op
def triu(x, k=0):
    return torch.triu(_t(x), diagonal=k)


@keras_op
def diff(a, n=1, axis=-1):
    return torch.diff(_t(a), n=n, dim=axis)


@keras_op
def meshgrid(*x, indexing="xy"):
    return list(torch.meshgrid([_t(v) for v in x], indexing=indexing))


@keras_op
def vander(x, N=None, increasing=False):
    x = _t(x)
    return cast(torch.vander(x, N=N, increasing=increasing), result_type(x.dtype))


def ndim(x):
    return len(x.shape) if hasattr(x, "shape") else _t(x).ndim


def size(x):
    if isinstance(x, KerasTensor):
        if builtins.any(d is None for d in x.shape):
            return None
        return int(np.prod(x.shape))
    return torch.prod(_t(tuple(_t(x).shape), "int32")) if _t(x).ndim else _t(1)


# ------------------------------------------------------------------------------ products
def _dot_dtypes(x1, x2):
    res = result_type(x1.dtype, x2.dtype)
    comp = result_type(res, float)
    if comp == "float16" and x1.device.type == "cpu":
        comp = "float32"
    return res, comp


@keras_op
def matmul(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if _dt(x1) == "int8" and _dt(x2) == "int8":
        res = "int32"
    else:
        res = result_type(x1.dtype, x2.dtype)
    comp = _floatx() if res == "bool" else res
    if comp == "float16" and x1.device.type == "cpu":
        comp = "float32"
    return cast(torch.matmul(cast(x1, comp), cast(x2, comp)), res)


@keras_op
def dot(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    res, comp = _dot_dtypes(x1, x2)
    x1, x2 = cast(x1, comp), cast(x2, comp)
    if x1.ndim == 0 or x2.ndim == 0:
        return cast(x1 * x2, res)
    return cast(torch.matmul(x1, x2), res)


@keras_op
def tensordot(x1, x2, axes=2):
    x1, x2 = _t(x1), _t(x2)
    res, comp = _dot_dtypes(x1, x2)
    if isinstance(axes, (list, tuple)):
        a, b = axes
        axes = ([a] if isinstance(a, int) else list(a), [b] if isinstance(b, int) else list(b))
    return cast(torch.tensordot(cast(x1, comp), cast(x2, comp), dims=axes), res)


@keras_op
def vdot(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    res, comp = _dot_dtypes(x1, x2)
    return cast(torch.vdot(cast(x1, comp).reshape(-1), cast(x2, comp).reshape(-1)), res)


@keras_op
def inner(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    res, comp = _dot_dtypes(x1, x2)
    return cast(torch.inner(cast(x1, comp), cast(x2, comp)), res)


@keras_op
def outer(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    x1, x2 = _t(x1), _t(x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = torch.moveaxis(x1, axisa, -1), torch.moveaxis(x2, axisb, -1)
    res = result_type(x1.dtype, x2.dtype)
    comp = "float32" if res == "float16" else res
    x1, x2 = cast(x1, comp), cast(x2, comp)
    if x1.shape[-1] == 2 or x2.shape[-1] == 2:
        if x1.shape[-1] == 2:
            x1 = F.pad(x1, (0, 1))
        if x2.shape[-1] == 2:
            x2 = F.pad(x2, (0, 1))
        out = torch.linalg.cross(*torch.broadcast_tensors(x1, x2), dim=-1)
        if out.ndim and (_t(x1).shape[-1] == 3 and _t(x2).shape[-1] == 3) is False:
            out = out[..., 2]
            return cast(out, res)
    else:
        out = torch.linalg.cross(*torch.broadcast_tensors(x1, x2), dim=-1)
    return cast(torch.moveaxis(out, -1, axisc), res)


@keras_op
def einsum(subscripts, *operands, **kwargs):
    operands = [_t(o) for o in operands]
    dts = {_dt(o) for o in operands}
    if dts == {"int8"}:
        return cast(torch.einsum(subscripts, *[cast(o, "int32") for o in operands]), "int32")
    if len(dts) > 1:
        dt = result_type(*dts)
        operands = [cast(o, dt) for o in operands]
    return torch.einsum(subscripts, *operands)


@keras_op
def correlate(x1, x2, mode="valid"):
    x1, x2 = _t(x1), _t(x2)
    dt = result_type(x1.dtype, x2.dtype)
    dt = "float64" if dt == "int64" else dt if dt in ("bfloat16", "float16", "float64") else "float32"
    x1, x2 = cast(x1, dt), cast(x2, dt)
    n1, n2 = x1.shape[-1], x2.shape[-1]
    full_ = F.conv1d(x1.reshape(1, 1, -1), x2.reshape(1, 1, -1), padding=n2 - 1).reshape(-1)
    if mode == "full":
        return full_
    if mode == "same":
        start = (full_.shape[-1] - n1) // 2
        return full_[start:start + n1]
    length = builtins.max(n1, n2) - builtins.min(n1, n2) + 1
    start = (full_.shape[-1] - length) // 2
    return full_[start:start + length]


@keras_op
def corrcoef(x):
    x = _t(x)
    if _dt(x) == "bool":
        x = cast(x, _floatx())
    elif _dt(x) == "int64":
        x = cast(x, "float64")
    elif "int" in _dt(x):
        x = cast(x, _floatx())
    return torch.corrcoef(x)


@keras_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = _t(y)
    if _dt(y) == "bool":
        y = cast(y, _floatx())
    if x is not None:
        return torch.trapezoid(y, x=_t(x), dim=axis)
    return torch.trapezoid(y, dx=dx, dim=axis)


# ------------------------------------------------------------------------------ sorting and indexing
@keras_op
def sort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


@keras_op
def argsort(x, axis=-1):
    x = _t(x)
    if _dt(x) == "bool":
        x = cast(x, "uint8")
    if axis is None:
        x, axis = x.reshape(-1), -1
    return cast(torch.argsort(x, dim=axis, stable=True), "int32")


@keras_op
def argpartition(x, kth, axis=-1):
    # A full stable sort is one valid partition; Keras's torch result is another, so compare partitions.
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return cast(torch.argsort(x, dim=axis, stable=True), "int32")


@keras_op
def searchsorted(sorted_sequence, values, side="left"):
    seq, values = _t(sorted_sequence), _t(values)
    if seq.ndim != 1:
        raise ValueError(f"`searchsorted` only supports 1-D sorted sequences. Received: "
                         f"sorted_sequence.shape={tuple(seq.shape)}")
    return torch.searchsorted(seq, values, side=side, out_int32=True)


@keras_op
def digitize(x, bins):
    x, bins = _t(x), _t(bins)
    if _dt(x) == "bool":
        x = cast(x, "uint8")
    return cast(torch.bucketize(x, bins, right=True), "int32")


@keras_op
def take(x, indices, axis=None):
    x = _t(x)
    indices = _t(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _canon(axis, x.ndim)
    n = x.shape[axis]
    indices = torch.where(indices < 0, indices + n, indices)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1:]))


@keras_op
def take_along_axis(x, indices, axis=None):
    x = _t(x)
    indices = _t(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _canon(axis, x.ndim)
    n = x.shape[axis]
    indices = torch.where(indices < 0, indices + n, indices)
    shape = list(torch.broadcast_shapes(tuple(x.shape[:axis]) + (1,) + tuple(x.shape[axis + 1:]),
                                        tuple(indices.shape[:axis]) + (1,) + tuple(indices.shape[axis + 1:])))
    xs = list(shape)
    xs[axis] = x.shape[axis]
    ishape = list(shape)
    ishape[axis] = indices.shape[axis]
    return torch.gather(x.expand(xs), axis, indices.expand(ishape))


@keras_op
@data_dependent
def nonzero(x):
    return cast(torch.nonzero(_t(x)).T, "int32")


@keras_op
def unravel_index(indices, shape):
    indices = _t(indices)
    return tuple(cast(i, _dt(indices)) for i in torch.unravel_index(indices, tuple(shape)))


@keras_op
@data_dependent
def bincount(x, weights=None, minlength=0, sparse=False):
    if sparse:
        raise ValueError("sparse=True is not supported by the engine (torch). Received: sparse=True")
    x = _t(x)
    if weights is not None:
        weights = _t(weights)
        dt = result_type(x.dtype, weights.dtype)
    else:
        dt = "int32"
    if x.ndim == 2:
        rows = [torch.bincount(r, weights=None if weights is None else w, minlength=minlength)
                for r, w in zip(x, weights if weights is not None else [None] * x.shape[0])]
        return cast(torch.stack(rows), dt)
    return cast(torch.bincount(x, weights=weights, minlength=minlength), dt)


@keras_op
def histogram(x, bins=10, range=None):  # noqa: A002
    x = _t(x)
    lo, hi = range if range is not None else (float(x.min()), float(x.max()))
    hist = torch.histc(x.float(), bins=bins, min=lo, max=hi)
    edges = torch.linspace(lo, hi, bins + 1, device=x.device)
    return hist.to(x.dtype if x.is_floating_point() else torch.float32), edges.to(
        x.dtype if x.is_floating_point() else torch.float32)


@keras_op
@data_dependent
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None,  # noqa: A002
           size=None, fill_value=None):
    x = _t(x)
    out = torch.unique(x, sorted=True, return_inverse=return_inverse or return_index,
                       return_counts=return_counts, dim=axis)
    out = list(out) if isinstance(out, tuple) else [out]
    values = out[0]
    dim = 0 if axis is None else _canon(axis, x.ndim)
    extra = {}
    if return_inverse or return_index:
        inverse = out[1]
        if return_index:
            flat_inv = inverse.reshape(-1)
            perm = torch.arange(flat_inv.shape[0], device=x.device)
            extra["index"] = torch.full((values.shape[dim],), flat_inv.shape[0], dtype=torch.long,
                                        device=x.device).scatter_reduce(0, flat_inv, perm, reduce="amin")
        if return_inverse:
            extra["inverse"] = inverse
    if return_counts:
        extra["counts"] = out[-1]
    if size is not None:
        have = values.shape[dim]
        if have > size:
            values = values.narrow(dim, 0, size)
            for k in ("index", "counts"):
                if k in extra:
                    extra[k] = extra[k][:size]
        elif have < size:
            padw = [0, 0] * values.ndim
            padw[(values.ndim - 1 - dim) * 2 + 1] = size - have
            values = F.pad(values, padw, value=0 if fill_value is None else fill_value)
            if "counts" in extra:
                extra["counts"] = F.pad(extra["counts"], (0, size - have), value=0)
            if "index" in extra:
                extra["index"] = F.pad(extra["index"], (0, size - have), value=1)
    results = [values] + [extra[k] for k in ("index", "inverse", "counts") if k in extra]
    return results[0] if len(results) == 1 else tuple(results)


def _normalize_key(key):
    if isinstance(key, list):
        key = tuple(key) if builtins.any(isinstance(k, (slice, type(None), type(Ellipsis))) for k in key) \
            else _t(key)
    if isinstance(key, tuple):
        return tuple(_t(k).long() if isinstance(k, (list, np.ndarray)) or (
            isinstance(k, torch.Tensor) and not k.dtype == torch.bool and k.ndim > 0) else k for k in key)
    if isinstance(key, np.ndarray):
        key = _t(key)
    if isinstance(key, torch.Tensor) and key.dtype != torch.bool:
        key = key.long()
    return key


@keras_op
def get_item(x, key):
    x = _t(x)
    return x[_normalize_key(key)]


@keras_op
def view(x, dtype=None):
    x = _t(x)
    return x.view(_tdt(dtype)) if dtype is not None else x.view(x.dtype)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``numpy.vectorize`` with ``torch.vmap``: ``pyfunc`` mapped over the broadcast leading axes."""
    if signature is not None:
        raise NotImplementedError("vectorize(signature=...) is not supported by the engine.")
    excluded = set(excluded or ())

    def wrapped(*args, **kwargs):
        pos = [i for i, a in enumerate(args) if i not in excluded]
        tensors = torch.broadcast_tensors(*[_t(args[i]) for i in pos])

        def inner(*ts):
            call = list(args)
            for i, t in zip(pos, ts):
                call[i] = t
            return pyfunc(*call, **kwargs)

        fn = inner
        for _ in range(tensors[0].ndim):
            fn = torch.vmap(fn)
        return fn(*tensors)

    return wrapped


@keras_op
def slogdet(x):
    return tuple(torch.linalg.slogdet(_t(x)))


__all__ = [n for n in list(globals()) if not n.startswith("_") and n not in (
    "annotations", "builtins", "np", "torch", "F", "backend", "KerasTensor", "device", "dtype_name",
    "keras_op", "result_type", "standardize_dtype", "data_dependent")]
